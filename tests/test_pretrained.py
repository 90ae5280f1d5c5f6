"The criteria that ship in the package: the files the CPU profile's reproduction makes, in the wheel, usable with no results folder."
import json, os, shutil, subprocess, sys, zipfile
from pathlib import Path

from autosparse.autos import PRETRAINED_SCORER, load_scorer, pretrained_path
from autosparse.config import Execution, key_of
from autosparse.density import PRETRAINED_DENSITY, PRETRAINED_LEARNED, shipped_configs
from autosparse.masks import count_to_remove
from autosparse.store import sha256
from autosparse.training import run_identity

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

def test_a_built_wheel_carries_them_and_prunes_with_no_results_folder(tmp_path):
    source = tmp_path/'source'   # a copy: building leaves nothing in the checkout, and no earlier build/ leaks in
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns('.git', '.venv', 'build', '*.egg-info', 'results', 'runs', 'figures'))
    built = subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(source), '--no-deps', '--no-build-isolation', '-q',
                            '-w', str(tmp_path/'wheel')], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path/'wheel').glob('autosparse-*.whl')
    with zipfile.ZipFile(wheel) as z:
        assert {f'autosparse/pretrained/{name}' for name in SHIPPED} <= set(z.namelist())
        z.extractall(tmp_path/'site')
    code = ("import autosparse\n"
            "digits = autosparse.load_dataset('digits')\n"
            "model = autosparse.build_model('resnet20', digits.input_shape, 10, width=0.25, seed=0)\n"
            "for criterion in ('autos', 'irp-layers+magnitude', 'irp-layers+learned'):\n"
            "    mask = autosparse.prune(criterion, model, 0.9, digits, on_collapse='ignore')\n"
            "    print(criterion, mask.num_weights - mask.num_kept, mask.num_weights)\n"
            "print(autosparse.__file__)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path/'site'), AUTOSPARSE_RESULTS=str(tmp_path/'no-results'))
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith(str(tmp_path/'site'))   # the wheel's package, not the checkout's
    for line in lines[:3]:
        criterion, removed, total = line.split()
        assert int(removed) == count_to_remove(int(total), 0.9), line
    assert not (tmp_path/'no-results').exists()          # nothing trained, nothing stored
