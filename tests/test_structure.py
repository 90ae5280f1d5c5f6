"""The house reads in the order it is built: every module imports only from notebooks numbered before its own; exported
cells are short (or say why not); the method is written in the repository, not cited from outside it; every
reproduction notebook is run by `autosparse reproduce`."""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LONG = 40  # lines of an exported cell, above which the cell says why it is one cell


def notebook_of(module:Path)->str:
    "The notebook a module is exported from."
    return re.search(r'File to edit: \.\./nbs/(\S+)\.ipynb', module.read_text()).group(1)


def library_notebooks()->dict:
    "Module name -> its notebook's name (NN_name)."
    return {p.stem: notebook_of(p) for p in (ROOT/'autosparse').glob('*.py') if p.stem != '_modidx'}


def test_modules_import_only_from_lower_numbers():
    notebooks = library_notebooks()
    number = {m: int(nb[:2]) for m, nb in notebooks.items()}
    upward = []
    for module in notebooks:
        text = (ROOT/'autosparse'/f'{module}.py').read_text()
        for imported in re.findall(r'^\s*(?:from \.(\w+) import|from autosparse\.(\w+) import|import autosparse\.(\w+))', text, re.M):
            imported = next(i for i in imported if i)
            if imported in number and number[imported] >= number[module]: upward.append(f'{module} ({notebooks[module]}) imports {imported} ({notebooks[imported]})')
    assert not upward, upward
    assert sorted(number.values()) == list(range(len(number))), f"notebook numbers {sorted(number.values())} have gaps or repeats"


def test_no_module_imports_the_package_itself():
    "`import autosparse` loads the front door, which imports every module: from a lower floor it climbs over the whole house."
    climbing = [f'{p.name}: {line.strip()}' for p in sorted((ROOT/'autosparse').glob('*.py')) if p.stem not in ('__init__', '_modidx')
                for line in p.read_text().splitlines()
                if re.match(r'\s*import autosparse\s*(#.*)?$', line) or re.search(r"import_module\(['\"]autosparse['\"]\)", line)]
    assert not climbing, climbing


def exported_cells():
    for nb in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')):
        for i, cell in enumerate(json.loads(nb.read_text())['cells']):
            source = ''.join(cell['source'])
            if cell['cell_type'] == 'code' and source.startswith('#| export'): yield nb.name, i, source.splitlines()


def test_exported_cells_are_short_or_say_why():
    long = [f'{nb} cell {i}: {len(lines)} lines' for nb, i, lines in exported_cells()
            if len(lines) > LONG and not (len(lines) > 1 and lines[1].startswith('# one cell:'))]
    assert not long, long


def test_the_method_is_written_here_not_cited():
    cited = [p.name for p in (ROOT/'nbs').glob('*.ipynb') if 'METHOD.md' in p.read_text()]
    assert not cited, f"notebooks citing METHOD.md, which is not in the repository: {cited}"


def test_every_reproduction_notebook_is_run_by_reproduce():
    from autosparse.reproduction import PAGES, REPRODUCTION
    others = {*PAGES, 'explore'}   # the pages read the committed CSVs (`autosparse publish`); explore: tests/test_browser.py
    papermill = {p.stem for p in (ROOT/'nbs').glob('*.ipynb') if not re.match(r'\d\d_', p.stem) and p.stem not in others}
    assert papermill == {name for name, _ in REPRODUCTION}


def test_every_reproduction_parameter_is_documented_for_help_notebook():
    import papermill as pm
    from autosparse.reproduction import REPRODUCTION
    for name in dict.fromkeys(name for name, _ in REPRODUCTION):
        parameters = pm.inspect_notebook(str(ROOT/'nbs'/f'{name}.ipynb'))
        assert {'profile', 'results', 'figures'} <= set(parameters), name
        undocumented = [p for p, about in parameters.items() if not about['help'].strip()]
        assert not undocumented, f"nbs/{name}.ipynb: parameters without a trailing comment (papermill --help-notebook): {undocumented}"


def test_published_notebooks_are_small_and_free_of_progress_bars():
    "What `autosparse reproduce` publishes into nbs/ for readers: each at most 1 MB, no widget state or progress bars."
    from autosparse.reproduction import PROGRESS_MIME
    for path in [*(ROOT/'nbs').glob('*.ipynb'), *(ROOT/'nbs'/'executed').glob('*.ipynb')]:
        assert path.stat().st_size <= 1_000_000, f"{path.name}: {path.stat().st_size:,} bytes"
        nb = json.loads(path.read_text())
        assert 'widgets' not in nb['metadata'] and 'papermill' not in nb['metadata'], path.name
        for cell in nb['cells']:
            for out in cell.get('outputs', []):
                assert PROGRESS_MIME not in out.get('data', {}) and out.get('name') != 'stderr', (path.name, cell.get('id'))


def test_one_statement_per_line_in_the_package():
    "No statements joined by ';' in the package (CONTRIBUTING.md: one statement per line, except a short guard)."
    import io, tokenize
    joined = [f'{p.name}:{t.start[0]}' for p in sorted((ROOT/'autosparse').glob('*.py'))
              for t in tokenize.generate_tokens(io.StringIO(p.read_text()).readline) if t.type == tokenize.OP and t.string == ';']
    assert not joined, joined


def test_each_method_owns_its_names():
    "The ground floor restates no method's names: the configurations live beside their methods, the rules come from them."
    import autosparse.config as config
    from autosparse.criteria import BASELINES
    from autosparse.density import WITHIN_RULES, DENSITY_CRITERIA
    from autosparse.autos import FEATURE_COLUMNS, FEATURE_SETS
    from autosparse.irp import IRPConfig
    restated = [n for n in ('IRP_CRITERIA', 'WITHIN', 'FEATURE_COLUMNS', 'IRPConfig', 'ScorerConfig', 'DensityConfig', 'Features')
                if hasattr(config, n)]
    assert not restated, restated
    assert {c.name for c in DENSITY_CRITERIA} >= {f'irp-layers+{r}' for r in WITHIN_RULES}
    assert all(c in FEATURE_COLUMNS for features in FEATURE_SETS.values() for c in features.inputs)
    for b in BASELINES: IRPConfig.for_profile('smoke', criterion=b.name)   # every baseline is an IRP round's rule


def test_lines_in_the_package_are_short():
    "At most 120 characters a line in the package, but for what nbdev writes itself (`__all__`, `_modidx.py`)."
    long = [f'{p.name}:{i}' for p in sorted((ROOT/'autosparse').glob('*.py')) if p.name != '_modidx.py'
            for i, line in enumerate(p.read_text().splitlines(), 1) if len(line) > 120 and not line.startswith('__all__ = [')]
    assert not long, long
