"End to end: the `autosparse` command runs the reproduction notebooks with papermill on the smoke profile."
import subprocess, sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AUTOSPARSE = Path(sys.executable).parent / 'autosparse'


def autosparse(*args):
    return subprocess.run([str(AUTOSPARSE), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_reproduce_smoke_writes_results_and_reuses_finished_runs(tmp_path):
    folders = ['--runs', tmp_path/'runs', '--results', tmp_path/'results', '--figures', tmp_path/'figures']
    first = autosparse('reproduce', '--profile', 'smoke', *folders)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    table = pd.read_csv(tmp_path/'figures'/'dense_vs_sparse-smoke.csv')
    assert list(table.method) == ['dense', 'random'] and list(table.sparsity) == [0.0, 0.9]
    assert (table.last_acc > 0.1).all()  # 10 classes: above chance
    assert (tmp_path/'figures'/'dense_vs_sparse-smoke.png').stat().st_size > 0
    assert (tmp_path/'runs'/'dense_vs_sparse-smoke.ipynb').exists()
    assert 'dense' in first.stdout and 'random' in first.stdout  # the headline table is printed

    checkpoints = sorted((tmp_path/'results').rglob('*.pt'))
    assert len(checkpoints) == 2
    written = [p.stat().st_mtime_ns for p in checkpoints]
    second = autosparse('reproduce', '--profile', 'smoke', *folders)
    assert second.returncode == 0, second.stderr[-3000:]
    assert [p.stat().st_mtime_ns for p in checkpoints] == written  # nothing was trained again
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path/'figures'/'dense_vs_sparse-smoke.csv'), table)


def test_unknown_profile_is_a_one_line_error():
    result = autosparse('reproduce', '--profile', 'huge')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["autosparse: error: unknown profile 'huge'; known: paper, cpu, smoke"]
