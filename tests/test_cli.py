"""Bad input at the command line, as a user types it: one line on standard error, exit status 2 (1 for a failed
notebook), no traceback, and nothing written to the results root."""
import os, subprocess, sys
from pathlib import Path

import pytest

from autosparse import cli

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def refused(*args, env=None)->str:
    "The one line a refused command prints."
    done = subprocess.run([str(BIN/'autosparse'), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and 'Traceback' not in done.stderr, (done.returncode, done.stderr[-3000:])
    return lines[0]


@pytest.mark.parametrize('args, message', [
    (['run', '--profile', 'smoke', '--criterion', 'snip', '--sparsity', '0.9', '--seed', '-1'], "argument --seed: must be an integer in [0, 2147483647]; got '-1'"),
    (['run', '--profile', 'smoke', '--criterion', 'snip', '--sparsity', '0.9', '--seed', str(2**70)], "argument --seed: must be an integer"),
    (['run', '--profile', 'smoke', '--criterion', 'synflow', '--sparsity', '1.5'], "argument --sparsity: must be a number in [0, 1)"),
    (['reproduce', '--profile', 'smoke', '--backend', 'bogus'], "argument --backend: invalid choice: 'bogus'"),
    (['irp', '--profile', 'huge'], "argument --profile: invalid choice: 'huge'"),
    (['reproduce', '--profile', 'smoke', '--cell-timeout', '0'], "cell_timeout must be a number in (0, inf) (seconds); got 0.0"),
])
def test_a_bad_argument_is_refused_before_anything_is_written(tmp_path, args, message):
    assert message in refused(*args, '--results', tmp_path/'results')
    assert not (tmp_path/'results').exists()


def test_a_data_set_that_cannot_be_downloaded_is_one_line(tmp_path):
    line = refused('run', '--profile', 'paper', '--criterion', 'magnitude', '--sparsity', '0.9', '--results', tmp_path/'results',
                   env=dict(AUTOSPARSE_DOWNLOAD='1', AUTOSPARSE_DATA=str(tmp_path/'data')))
    assert line.startswith('autosparse: error: could not download CIFAR10') or 'CIFAR10 not found' in line, line


def test_a_results_root_that_is_a_file_is_one_line(tmp_path):
    (tmp_path/'file').write_text('not a folder')
    line = refused('run', '--profile', 'smoke', '--criterion', 'random', '--sparsity', '0.5', '--results', tmp_path/'file')
    assert line == f"autosparse: error: results root must be a folder; got '{tmp_path/'file'}', which is a file"


def test_a_dead_notebook_kernel_is_one_line(tmp_path, monkeypatch, capsys):
    from nbclient.exceptions import DeadKernelError
    import papermill
    def dies(*args, **kwargs): raise DeadKernelError("Kernel died")
    monkeypatch.setattr(papermill, 'execute_notebook', dies)
    with pytest.raises(SystemExit) as stopped:
        cli.main(['reproduce', '--profile', 'smoke', '--runs', str(tmp_path/'runs'), '--results', str(tmp_path/'results'),
                  '--figures', str(tmp_path/'figures')])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "autosparse: error: a notebook's kernel died (out of memory, or killed); run the same command again to resume"]


def test_a_cell_past_its_timeout_stops_the_reproduction_instead_of_hanging_it(tmp_path):
    folders = [f'--{name}={tmp_path/name}' for name in ('runs', 'results', 'figures')]
    done = subprocess.run([str(BIN/'autosparse'), 'reproduce', '--profile', 'smoke', '--only', 'source', '--cell-timeout', '1', *folders],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)  # its imports alone take longer than a second
    # the line is ours; the stopped kernel and nbclient's pending poll may print around it as they shut down
    assert done.returncode == 1 and done.stderr.splitlines().count(
        "autosparse: error: a notebook cell ran past --cell-timeout 1 s (see the executed copy under runs/); "
        "run the same command again to resume") == 1, done.stderr[-3000:]


@pytest.mark.parametrize('args, message', [
    (['--model', 'no_such_module:net', '--input-shape', '3,32,32'], "cannot import 'no_such_module'"),
    (['--model', 'torchvision.models:resnet18', '--input-shape', '3,x'], "argument --input-shape: must be positive integers"),
    (['--model', 'torchvision.models:resnet18', '--dataset', 'digits'], "the model does not take inputs of shape (1, 8, 8)"),
])
def test_prune_refuses_a_model_it_cannot_build_or_feed_and_writes_nothing(tmp_path, args, message):
    line = refused('prune', *args, '--criterion', 'magnitude', '--sparsity', '0.9', '--out', tmp_path/'mask.safetensors')
    assert message in line, line
    assert not (tmp_path/'mask.safetensors').exists()


def test_prune_writes_a_mask_of_a_torchvision_model(tmp_path):
    from autosparse import load_mask
    done = subprocess.run([str(BIN/'autosparse'), 'prune', '--model', 'torchvision.models:resnet18', '--num-classes', '10',
                           '--criterion', 'synflow', '--iterations', '2', '--sparsity', '0.99', '--input-shape', '3,32,32',
                           '--out', str(tmp_path/'mask.safetensors')], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    mask = load_mask(tmp_path/'mask.safetensors')
    assert mask.num_weights - mask.num_kept == int(0.99 * mask.num_weights) and 'written to' in done.stdout


@pytest.mark.parametrize('parameters, message', [
    (['-p', 'profile', 'huge'], "ConfigError: profile must be one of 'paper', 'cpu', 'smoke'; got 'huge'"),
    (['-p', 'profile', 'smoke', '-p', 'sparsity', '1.5'],
     "ConfigError: sparsity must be a number in (0, 1) (the fraction of prunable weights removed); got 1.5"),
])
def test_the_cards_papermill_command_refuses_bad_input_in_its_first_cell(tmp_path, parameters, message):
    "`papermill nbs/ablation.ipynb -p ...` with a bad value: the first cell fails, naming it and the valid ones, before any work."
    done = subprocess.run([str(BIN/'papermill'), 'nbs/ablation.ipynb', str(tmp_path/'out.ipynb'), *parameters], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, AUTOSPARSE_RESULTS=str(tmp_path/'results')))
    assert done.returncode != 0 and message in done.stderr, done.stderr[-3000:]
    assert not (tmp_path/'results').exists() or not any((tmp_path/'results').rglob('*.pt'))  # nothing computed
