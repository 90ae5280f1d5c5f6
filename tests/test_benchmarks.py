"The benchmark scripts run (at a tiny size) and print their ratios; the speed goals are read off their output, not asserted."
import subprocess, sys
import pandas as pd, torch
from pathlib import Path
import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]


def test_training_speed_benchmark_prints_its_ratios():
    result = subprocess.run([sys.executable, 'benchmarks/training_speed.py', '--width', '0.0625', '--steps', '2',
                             '--batch-size', '16'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for ratio in ['masked / dense step time', 'our throughput / bare loop throughput', 'speed-up of our masked step']:
        assert ratio in result.stdout


def test_scorer_throughput_benchmark_prints_its_rates():
    result = subprocess.run([sys.executable, 'benchmarks/scorer_throughput.py', '--weights', '64', '--chunk', '32',
                             '--width', '0.0625', '--image-side', '8', '--repeats', '1'],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for network in ['mlp', 'mlp-official', 'resnet18']:
        assert f"{network}: " in result.stdout and 'weights scored per second' in result.stdout


def test_prune_speed_benchmark_prints_its_ratios():
    result = subprocess.run([sys.executable, 'benchmarks/prune_speed.py', '--criteria', 'magnitude', 'synflow',
                             '--synflow-rounds', '2'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for criterion in ['magnitude', 'synflow (2 rounds)']:
        assert f"{criterion}: " in result.stdout and 'seconds / goal' in result.stdout


def test_batching_benchmark_prints_its_ratios():
    result = subprocess.run([sys.executable, 'benchmarks/batching.py', '--models', 'resnet18', '--networks', '2', '--steps', '2',
                             '--batch-size', '8', '--width', '0.0625', '--side', '8', '--precision', 'fp32'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'batching ratio (vmap-stacked / one after another)' in result.stdout and 'parallel ratio' in result.stdout
    gap = float(result.stdout.split('stacked vs one after another: ')[1].split()[0])
    assert gap < 1e-3  # the stacked networks compute what the separate ones compute


def test_command_times_benchmark_times_a_command(tmp_path):
    out = ROOT/'benchmarks'/'command-times.csv'
    before = out.read_text() if out.exists() else None
    try:
        result = subprocess.run([sys.executable, 'benchmarks/command_times.py', '--only', 'help-notebook'], cwd=ROOT,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'help-notebook' in result.stdout and 'seconds' in result.stdout
    finally:  # the committed measurements stay as they were
        if before is None: out.unlink(missing_ok=True)
        else: out.write_text(before)


def test_efficiency_benchmark_prints_its_ratios(tmp_path):
    result = subprocess.run([sys.executable, 'benchmarks/efficiency.py', '--steps', '2', '--size', '128', '--no-reproduction',
                             '--out', str(tmp_path/'efficiency.csv')],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the cpu profile's step: " in result.stdout and 'efficiency (step / peak)' in result.stdout
    written = pd.read_csv(tmp_path/'efficiency.csv')
    assert len(written) == len({1, torch.get_num_threads()}) and written.efficiency.between(0, 1).all()


def test_sparse_speed_benchmark_prints_its_ratios(tmp_path):
    result = subprocess.run([sys.executable, 'benchmarks/sparse_speed.py', '--side', '16', '--batch', '2', '--repeats', '1',
                             '--criterion', 'magnitude', '--out', str(tmp_path/'speed.csv')], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for measure in ['masked / dense latency', 'sparse / dense size', 'CSR speed-up']: assert measure in result.stdout
