"""A run's key names what changes its numbers. Under settings that pick other kernels on this machine, a smoke
training is repeated in a process of its own: wherever its numbers move, `Execution.here()` (and so every run's key)
moves with them, and the same setting twice gives the same numbers and the same execution."""
import json, os, subprocess, sys

import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

TRAIN = """
import json, torch
from dataclasses import asdict, replace
from autosparse.config import Execution, get_profile
from autosparse.runs import PaIRun
from autosparse.training import _initial_checksum, build_profile_model, load_profile_data, train
torch.set_num_threads(1)
smoke = get_profile('smoke')
data = load_profile_data(smoke).subset(60)
trained = {}
for precision in ('fp32', 'auto'):   # float32, and bfloat16 where the processor has it (the CPU profile's 'auto')
    model = build_profile_model(smoke, data, 0)
    train(model, data, replace(smoke.recipe, epochs=1, milestones=(1,), precision=precision), progress=False)
    trained[precision] = _initial_checksum(model)
print(json.dumps(dict(trained=trained, execution=asdict(Execution.here()), key=PaIRun(smoke, 'snip', 0.9).key())))
"""
SETTINGS = {  # each picks other kernels on some processors; what it changes here is measured, not assumed
    'this process again': {},
    "ATen's kernels capped at AVX2": dict(ATEN_CPU_CAPABILITY='avx2'),
    "ATen's scalar kernels": dict(ATEN_CPU_CAPABILITY='default'),
    'oneDNN capped at AVX2': dict(ONEDNN_MAX_CPU_ISA='AVX2'),
    'oneDNN without native bfloat16': dict(ONEDNN_MAX_CPU_ISA='AVX512_CORE'),
    "MKL's compatible code path": dict(MKL_CBWR='COMPATIBLE'),
}


def trained_under(settings:dict)->subprocess.Popen:
    return subprocess.Popen([sys.executable, '-c', TRAIN], env={**os.environ, **settings}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def test_whatever_moves_a_training_moves_its_key():
    base = json.loads(subprocess.run([sys.executable, '-c', TRAIN], capture_output=True, text=True, timeout=600).stdout.splitlines()[-1])
    processes = {name: trained_under(settings) for name, settings in SETTINGS.items()}
    moved = []
    for name, process in processes.items():
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, name
        other = json.loads(out.splitlines()[-1])
        if other['trained'] != base['trained']:
            moved.append(name)
            assert other['execution'] != base['execution'] and other['key'] != base['key'], f"{name} moved the numbers, not the key"
        if not SETTINGS[name]: assert other == base, "the same process twice: the same numbers, execution and key"
    assert "MKL's compatible code path" in moved and "ATen's scalar kernels" in moved  # on any x86 machine: not vacuous
