"The criteria that ship in the package: the files the CPU profile's reproduction makes, in the wheel, usable with no results folder."
import json, os, shutil, subprocess, sys, zipfile
from pathlib import Path

from autosparse.autos import PRETRAINED_SCORER, load_scorer, pretrained_path
from autosparse.config import Execution, key_of
from autosparse.density import PRETRAINED_DENSITY, PRETRAINED_LEARNED, shipped_configs
from autosparse.masks import count_to_remove
from autosparse.store import sha256
from autosparse.training import run_identity
import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (PRETRAINED_SCORER, PRETRAINED_DENSITY, PRETRAINED_LEARNED, 'manifest.json')

def test_the_shipped_files_are_the_ones_the_cpu_reproduction_makes():
    manifest = json.loads(pretrained_path('manifest.json').read_text())
    assert set(manifest) == set(SHIPPED) - {'manifest.json'}
    for name, config in shipped_configs('cpu').items():
        entry, path = manifest[name], pretrained_path(name)
        assert (sha256(path), path.stat().st_size) == (entry['sha256'], entry['bytes']), f"{name} is not the file its manifest names"
        # what the reproduction would learn from today, computed where the shipped file was made
        today = run_identity(config, Execution(**entry['identity']['execution']))
        assert today == entry['identity'], f"{name} was learned by other code, profile or data: `make reproduce` refreshes it"
        assert key_of(today) == entry['key']
    assert load_scorer(pretrained_path(PRETRAINED_SCORER)).key == manifest[PRETRAINED_SCORER]['key']

def installed_closure(requirements:list)->dict:
    "Every installed distribution these requirements (and theirs, recursively, no extras) pull in: name -> Distribution."
    from importlib.metadata import PackageNotFoundError, distribution
    from packaging.requirements import Requirement
    found, todo = {}, list(requirements)
    while todo:
        r = Requirement(todo.pop())
        if r.marker is not None and not r.marker.evaluate({'extra': ''}): continue
        name = r.name.lower().replace('_', '-')
        if name in found: continue
        try: found[name] = distribution(r.name)
        except PackageNotFoundError: continue    # an optional platform package this machine does not have
        todo += found[name].requires or []
    return found


def site_of(distributions:dict, folder:Path)->Path:
    "A site folder holding only these distributions (their top-level files linked from this environment's)."
    folder.mkdir(parents=True, exist_ok=True)
    for dist in distributions.values():
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder/top).exists() and top not in ('..', 'bin'): (folder/top).symlink_to(source)
    return folder


def test_a_built_wheel_carries_them_installs_slim_and_prunes_with_no_results_folder(tmp_path):
    """The wheel, in an environment of its core dependencies alone (and torchvision, the user's model library): every
    criterion prunes torchvision's ResNet-18 but NPB, whose extra is missing and which says so in one line; nothing is
    trained or stored."""
    source = tmp_path/'source'   # a copy: building leaves nothing in the checkout, and no earlier build/ leaks in
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns('.git', '.venv', 'build', '*.egg-info', 'results', 'runs', 'figures'))
    built = subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(source), '--no-deps', '--no-build-isolation', '-q',
                            '-w', str(tmp_path/'wheel')], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path/'wheel').glob('autosparse-*.whl')
    with zipfile.ZipFile(wheel) as z:
        assert {f'autosparse/pretrained/{name}' for name in SHIPPED} <= set(z.namelist())
        metadata = z.read(next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))).decode()
        z.extractall(tmp_path/'site')
    core = [line.split(':', 1)[1].strip() for line in metadata.splitlines() if line.startswith('Requires-Dist:') and 'extra ==' not in line]
    assert sorted(r.split('>')[0].split('<')[0].split('=')[0] for r in core) == ['numpy', 'pandas', 'safetensors', 'scipy', 'torch', 'tqdm']
    site_of(installed_closure(core + ['torchvision']), tmp_path/'site')
    code = ("import sys, torch, torchvision, autosparse\n"
            "from torch.utils.data import TensorDataset\n"
            "g = torch.Generator().manual_seed(0)\n"
            "data = TensorDataset(torch.rand(100, 3, 32, 32, generator=g), torch.arange(100) % 10)\n"
            "for criterion in autosparse.CRITERIA:\n"
            "    if criterion in ('irp-layers+autos', 'irp-ticket'): continue   # they learn from a run of yours\n"
            "    model = torchvision.models.resnet18(num_classes=10)\n"
            "    options = dict(iterations=2) if 'synflow' in criterion or criterion.endswith('iterative') else {}\n"
            "    try: mask = autosparse.prune(criterion, model, 0.99, data, on_collapse='ignore', **options)\n"
            "    except ImportError as e: print('missing', criterion, str(e)); continue\n"
            "    print('pruned', criterion, mask.num_weights - mask.num_kept, mask.num_weights)\n"
            "print(autosparse.__file__, 'seaborn' in sys.modules, 'papermill' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path/'site'), AUTOSPARSE_RESULTS=str(tmp_path/'no-results'))
    done = subprocess.run([sys.executable, '-S', '-c', code], capture_output=True, text=True, timeout=1200, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == f"{tmp_path/'site'/'autosparse'/'__init__.py'} False False"   # the wheel's package, and nothing of the extras
    pruned = {l.split()[1]: l.split()[2:] for l in lines if l.startswith('pruned')}
    assert set(pruned) == set(autosparse_criteria()) - {'irp-layers+autos', 'irp-ticket', 'npb'}
    for criterion, (removed, total) in pruned.items(): assert int(removed) == count_to_remove(int(total), 0.99), criterion
    assert lines[[l.split()[1] for l in lines[:-1]].index('npb')] == \
        "missing npb criterion 'npb' needs cvxpy: pip install 'autosparse[npb]'"   # one line, naming the extra
    assert not (tmp_path/'no-results').exists()          # nothing trained, nothing stored


def autosparse_criteria()->list:
    from autosparse.registry import CRITERIA
    return list(CRITERIA)
