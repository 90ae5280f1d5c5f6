"End to end: the `autosparse` command runs every reproduction notebook with papermill on the smoke profile."
import os, re, subprocess, sys
from pathlib import Path

import pandas as pd
import torch

from autosparse.reproduction import REPRODUCTION, WHOLE_RUN
from autosparse.masks import count_to_remove
from autosparse.registry import CRITERIA
import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]
AUTOSPARSE = Path(sys.executable).parent / 'autosparse'


def autosparse(*args, env:dict|None=None):
    environment = {k: v for k, v in os.environ.items() if k != 'PYTEST_CURRENT_TEST'}  # under pytest a kernel keeps its output from its terminal
    return subprocess.run([str(AUTOSPARSE), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=3600,
                          env={**environment, **(env or {})})  # > 5x a cold smoke run (606 s on 2 cores)


def test_reproduce_smoke_writes_results_and_reuses_finished_runs(tmp_path):
    folders = ['--runs', tmp_path/'runs', '--results', tmp_path/'results', '--figures', tmp_path/'figures']
    side_by_side = ['--jobs', '2']  # after the source notebook, two at a time, each on half the threads
    patience = ['--cell-timeout', '600']  # no smoke cell takes a minute: a hung kernel fails in 10 minutes, not an hour
    first = autosparse('reproduce', '--profile', 'smoke', *folders, *side_by_side, *patience)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    figures = tmp_path/'figures'
    methods = {'dense', 'random', 'magnitude', 'snip', 'grasp', 'synflow', 'npb', 'autos'}
    for table_name in ['source', 'transfer-architecture', 'transfer-dataset']:
        table = pd.read_csv(figures/f'{table_name}-smoke.csv')
        assert methods <= set(table.method), table_name
        assert (table[table.method == 'dense'].last_acc > 0.15).all(), table_name  # 10 classes: above chance
        assert (figures/f'{table_name}-smoke.png').stat().st_size > 0
    ablation = pd.read_csv(figures/'ablation-summary-0.99-smoke.csv')
    assert set(ablation.ablation) == {'features', 'IRP criterion', 'IRP rounds', 'IRP source', 'scorer network'}
    variants = {'irp-layers+magnitude', 'irp-layers+random', 'irp-layers+autos', 'irp-layers+synflow'}
    assert variants | {'magnitude', 'snip', 'synflow', 'autos'} <= set(pd.read_csv(figures/'densities-summary-smoke.csv').method)
    sanity = pd.read_csv(figures/'sanity-checks-0.98-smoke.csv')
    assert set(sanity.check) == {'none', 'shuffle', 'reinit'} and set(sanity.method) == {'snip', 'synflow', 'npb', 'autos'}
    yours = pd.read_csv(figures/'your-model-prune-smoke.csv')
    assert set(yours[yours.network == 'ShortcutNet'].criterion) == set(CRITERIA) - {'irp-layers+autos', 'irp-ticket'}  # every criterion a network IRP never ran on can use
    assert (yours.weights - yours.kept == [count_to_remove(n, 0.9) for n in yours.weights]).all()
    assert (pd.read_csv(figures/'your-model-trained-smoke.csv').last_acc > 0).all()
    assert len(pd.read_csv(figures/'your-model-learned-smoke.csv')) == 2  # AutoS and the densities learned on ShortcutNet
    cells = pd.read_csv(figures/'extreme-cells-smoke.csv')  # every target at every extreme sparsity, each learned method against the best baseline
    assert len(cells) == 3 * 4 and set(cells.method) == {'irp-layers+learned-iterative', 'irp-layers+learned', 'irp-layers+synflow', 'autos'}
    assert set(cells.best_baseline) <= {'random', 'magnitude', 'snip', 'grasp', 'synflow', 'npb'}
    for name in ['source', 'transfer-architecture', 'transfer-dataset', 'ablation', 'densities', 'extreme', 'diagnostics', 'your_model']:
        assert (tmp_path/'runs'/f'{name}-smoke.ipynb').exists()
    assert all(m in first.stdout for m in methods - {'dense'})  # the headline table is printed
    assert 'the ablations at 99.0% sparsity: ' in first.stderr  # each notebook's banner and progress reach the terminal
    assert re.search(r'smoke: synflow at 90\.0%, seed 0: test accuracy', first.stderr)

    # every figure and CSV committed for the cpu profile is one that the reproduction writes
    written = {re.sub(r'-smoke(\.\w+)$', r'-cpu\1', p.name) for p in figures.iterdir()}
    tracked = subprocess.run(['git', 'ls-files', 'figures'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    committed = {Path(p).name for p in tracked}  # what git holds (a reader's figures/*-smoke.* and `make verify`'s compare-* are ignored)
    assert committed <= written, f"committed but not written by the reproduction: {sorted(committed - written)}"

    checkpoints = sorted((tmp_path/'results').rglob('*.pt'))
    stamps = [p.stat().st_mtime_ns for p in checkpoints]
    source = pd.read_csv(figures/'source-smoke.csv')
    second = autosparse('reproduce', '--profile', 'smoke', *folders, *patience)  # nothing changed: every notebook is skipped
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count('is current') == len(REPRODUCTION)
    (tmp_path/'runs'/'source-smoke.ipynb').unlink()                  # its executed copy gone: it runs again, from the store
    third = autosparse('reproduce', '--profile', 'smoke', *folders, '--only', 'source', *side_by_side, *patience)  # and it alone
    assert third.returncode == 0, third.stderr[-3000:]
    assert [p.stat().st_mtime_ns for p in checkpoints] == stamps  # nothing was trained again
    assert sorted((tmp_path/'results').rglob('*.pt')) == checkpoints
    pd.testing.assert_frame_equal(pd.read_csv(figures/'source-smoke.csv'), source)
    # the first two invocations logged every notebook: the first computed runs, the second skipped them all; the third ran one, reading it back
    log = pd.read_csv(figures/'reproduce-smoke.csv')
    whole = log[log.notebook == WHOLE_RUN]
    assert len(whole) == 3 and whole.skipped.tolist() == [False, True, False] and (whole.seconds > 0).all()
    cold, warm, again = (part for _, part in log[log.notebook != WHOLE_RUN].groupby('started', sort=False))
    assert len(cold) == len(warm) == len(REPRODUCTION)
    assert cold.computed.sum() > 0 and (cold.seconds > 0).all() and not cold.skipped.any()
    assert (cold.jobs == 2).all() and (cold.threads == max(1, torch.get_num_threads() // 2)).all()
    assert warm.skipped.all() and (warm.computed == 0).all()
    assert again.notebook.tolist() == ['source-smoke'] and not again.skipped.any() and (again.computed == 0).all()

    # a rerun on another thread count: other keys (the thread count is in them), other per-seed numbers, the same cells
    rerun = ['--runs', tmp_path/'rerun-runs', '--results', tmp_path/'rerun-results', '--figures', tmp_path/'rerun']
    threads = '2' if cold.threads.iloc[0] == 1 else '1'
    other = autosparse('reproduce', '--profile', 'smoke', *rerun, '--only', 'source', *patience, env=dict(OMP_NUM_THREADS=threads))
    assert other.returncode == 0, other.stderr[-3000:]
    assert set(pd.read_csv(tmp_path/'rerun'/'source-smoke.csv').key.dropna()).isdisjoint(set(source.key.dropna()))
    verdict = autosparse('compare', tmp_path/'rerun', '--against', figures, '--profile', 'smoke')
    assert verdict.returncode in (0, 1), verdict.stderr[-3000:]   # its verdict on a real rerun is what it is; what it says is checked
    cells = pd.read_csv(tmp_path/'rerun'/'compare-cells-smoke.csv')
    assert len(cells) == source.groupby(['method', 'sparsity', 'check'], dropna=False).ngroups   # every cell of the source table
    assert re.search(r'\d+ of \d+ cells agree .* \d+ cells have one seed on a side and are not tested', verdict.stdout)
    assert ('reproduces' if verdict.returncode == 0 else 'does not reproduce') in verdict.stdout
    itself = autosparse('compare', figures, '--against', figures, '--profile', 'smoke')   # a table set against itself agrees
    assert itself.returncode == 0 and 'the rerun reproduces' in itself.stdout, itself.stdout[-2000:]


def test_unknown_profile_is_a_one_line_error():
    result = autosparse('reproduce', '--profile', 'huge')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "autosparse reproduce: error: argument --profile: invalid choice: 'huge' (choose from 'paper', 'cpu', 'smoke')"]
