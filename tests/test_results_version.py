"""The results version is honest, and the masks it pins are the same on every processor.

Every criterion's mask on a small float64 network is recorded, with the RESULTS_VERSION it was computed under, in
tests/results-version.json. A change to the library that moves any of these masks without bumping
`autosparse.config.RESULTS_VERSION` (in nbs/00_config.ipynb) fails here; after a bump, record the new masks with

    python tests/test_results_version.py

The masks must not depend on the processor that computes them: the suite computes them again under other kernels of
this machine (MKL's compatible code path, ATen's AVX2 kernels, oneDNN capped at AVX2, two threads), the differences
between an AVX2 and an AVX-512 machine that one machine can reproduce. What made masks machine-dependent, and how each
was fixed: data statistics from exact sums (02_data), AutoS predictions in float64 (08_autos), the learned within-layer
rule's ranks and sums in float64 in a fixed order (09_density), NPB's path counts rounded to float32 (06_criteria).

Training is not in this check: its numbers depend on the kernels, which is why a run's key records them
(`autosparse.config.Execution`); a change to the training loop bumps the version by the maintainer's judgement."""
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch

from autosparse.autos import Scorer, ScorerConfig, build_scorer_network
from autosparse.config import RESULTS_VERSION, get_profile
from autosparse.irp import IRPConfig
from autosparse.density import DensityConfig, DESCRIPTORS, WITHIN_FEATURES, LayerDensity, layer_descriptors
from autosparse.models import build_model
from autosparse.registry import prune
from autosparse.training import load_profile_data

RECORDED = Path(__file__).with_name('results-version.json')
SPARSITIES = (0.5, 0.9, 0.98)
OTHER_KERNELS = {  # settings of this machine under which its arithmetic differs (tests/test_execution.py shows how)
    "MKL's compatible code path": dict(MKL_CBWR='COMPATIBLE'),
    "ATen's AVX2 kernels": dict(ATEN_CPU_CAPABILITY='avx2'),
    "oneDNN capped at AVX2": dict(ONEDNN_MAX_CPU_ISA='AVX2'),
    "two threads": dict(AUTOSPARSE_TEST_THREADS='2'),
}


def masks()->dict:
    "The fingerprint of every criterion's mask at every checked sparsity, on a float64 ResNet-20 of the digits."
    torch.set_num_threads(int(os.environ.get('AUTOSPARSE_TEST_THREADS', 1)))
    smoke = get_profile('smoke')
    data = load_profile_data(smoke).subset(20)
    model = build_model('resnet20', data.input_shape, 10, width=0.25, seed=0).double()
    irp = IRPConfig(smoke)
    scorer = Scorer(build_scorer_network('mlp', 2, seed=0), ScorerConfig(irp))     # an untrained AutoS network: its features count
    layers = layer_descriptors(model)
    phi = layers[list(DESCRIPTORS)].to_numpy()
    coef = np.linspace(-1, 1, 2 + 2 * len(DESCRIPTORS))                          # a fixed ridge: the budget matching counts
    within_coef = np.linspace(-1, 1, 1 + len(WITHIN_FEATURES))                   # a fixed within-layer model: its features count
    density = lambda within: LayerDensity(DensityConfig(irp, within=within), layers, None, phi.mean(0),
                                          np.where(phi.std(0) > 0, phi.std(0), 1.0), coef, None, within_coef)
    options = {'random': {}, 'magnitude': {}, 'snip': {}, 'grasp': {}, 'grasp (one batch)': dict(in_halves=False),
               'synflow': dict(iterations=10), 'npb': {}, 'autos': dict(scorer=scorer),
               **{f'irp-layers+{w}': dict(scorer=density(w)) for w in ('magnitude', 'random', 'snip')},
               'irp-layers+synflow': dict(scorer=density('synflow'), iterations=10),
               'irp-layers+learned': dict(scorer=density('learned')),
               'irp-layers+learned-iterative': dict(scorer=density('learned'))}
    return {f'{name}@{s}': prune(name.split(' ')[0], model, s, data, seed=3, **kwargs).fingerprint()
            for name, kwargs in options.items() for s in SPARSITIES}


def masks_under(settings:dict)->subprocess.Popen:
    "This file's masks computed in a process of its own under `settings` (environment variables); its JSON on the last line."
    return subprocess.Popen([sys.executable, __file__, '--print'], env={**os.environ, **settings}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def test_a_changed_mask_comes_with_a_new_results_version():
    recorded = json.loads(RECORDED.read_text())
    assert recorded['results_version'] == RESULTS_VERSION, (
        f"RESULTS_VERSION is {RESULTS_VERSION}, the recorded masks are of version {recorded['results_version']}: "
        f"record this version's with `python tests/test_results_version.py`")
    now = masks()
    changed = sorted(k for k in now if recorded['masks'].get(k) != now[k])
    assert not changed, (f"these masks changed without a new RESULTS_VERSION: {changed}. Bump it in nbs/00_config.ipynb "
                         f"(and say what changed in its table), run nbdev_export, then `python tests/test_results_version.py`")


@pytest.mark.slow
def test_the_pinned_masks_are_the_same_under_other_kernels():
    processes = {name: masks_under(settings) for name, settings in OTHER_KERNELS.items()}
    here = masks()
    for name, process in processes.items():
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, name
        other = json.loads(out.strip().splitlines()[-1])
        assert other.keys() == here.keys()
        moved = sorted(k for k in here if other[k] != here[k])
        assert not moved, f"under {name} these masks differ from this process's: {moved}"


if __name__ == '__main__':
    if sys.argv[1:] == ['--print']: print(json.dumps(masks()))
    else:
        RECORDED.write_text(json.dumps(dict(results_version=RESULTS_VERSION, masks=masks()), indent=1, sort_keys=True) + '\n')
        print(f"recorded {RECORDED} for results version {RESULTS_VERSION}", file=sys.stderr)
