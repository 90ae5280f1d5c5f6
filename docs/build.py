"""Stage the documentation's sources from the repository and build the site with Sphinx, offline.

    python docs/build.py [OUT]   (default build/docs; `make docs`)

The notebooks are the pages: the front door (README.md's text, as the home page), the tour, every reproduction
notebook with its committed outputs, the library notebooks as chapters, the guide and the results in detail; an API
page per module is generated from the docstrings and the documented arguments."""
import re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPRODUCTION = ['source', 'transfer', 'ablation', 'densities', 'extreme', 'regime', 'diagnostics', 'your_model']
PAGES = ['results', 'guide', 'explore', 'speed']


def library_notebooks()->list:
    return sorted(p.stem for p in (ROOT/'nbs').glob('[0-9][0-9]_*.ipynb'))


def modules()->list:
    "The exported modules, in import order (their notebooks' numbers)."
    found = {}
    for path in (ROOT/'autosparse').glob('*.py'):
        match = re.search(r'File to edit: \.\./nbs/(\d\d)_\S+\.ipynb', path.read_text())
        if match and path.stem != '__init__': found[path.stem] = int(match.group(1))
    return sorted(found, key=found.get)


def home(text:str)->str:
    "README.md as the site's home page: links into nbs/ become the pages they are here."
    text = re.sub(r'\]\(nbs/([\w-]+)\.ipynb\)', r'](\1.ipynb)', text)
    return (text.replace('](CONTRIBUTING.md)', '](contributing.md)').replace('](LICENSE)', '](license.md)')
            .replace('](CITATION.cff)', '](citation.md)'))


def toctree(caption:str, entries:list)->str:
    return '\n'.join(['```{toctree}', ':hidden:', f':caption: {caption}', '', *entries, '```', ''])


def stage(src:Path):
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy(ROOT/'docs'/'conf.py', src/'conf.py')
    shutil.copytree(ROOT/'figures', src/'figures', ignore=shutil.ignore_patterns('*.csv'))
    for name in [*library_notebooks(), *REPRODUCTION, *[p for p in PAGES if (ROOT/'nbs'/f'{p}.ipynb').exists()]]:
        shutil.copy(ROOT/'nbs'/f'{name}.ipynb', src/f'{name}.ipynb')
    executed = sorted((ROOT/'nbs'/'executed').glob('*.ipynb'))
    for path in executed: shutil.copy(path, src/path.name)
    (src/'contributing.md').write_text((ROOT/'CONTRIBUTING.md').read_text())
    (src/'license.md').write_text('# License\n\n```text\n' + (ROOT/'LICENSE').read_text() + '\n```\n')
    (src/'citation.md').write_text('# Citation\n\n```yaml\n' + (ROOT/'CITATION.cff').read_text() + '\n```\n')
    api = ['# API reference', '', 'Every public name of the library, module by module in import order, from its docstring and the',
           'trailing comment of each argument.', '']
    for module in modules():
        (src/f'api-{module}.md').write_text(f'# autosparse.{module}\n\n```{{eval-rst}}\n.. automodule:: autosparse.{module}\n```\n')
    api.append(toctree('Modules', [f'api-{m}' for m in modules()]))
    (src/'api.md').write_text('\n'.join(api))
    pages = [p for p in PAGES if (ROOT/'nbs'/f'{p}.ipynb').exists()]
    index = home((ROOT/'README.md').read_text())
    index += '\n' + toctree('Start here', ['15_front_door', *pages[:2]])
    index += toctree('Reproduction', [*REPRODUCTION, *[p.stem for p in executed], *pages[2:]])
    index += toctree('The library, chapter by chapter', [n for n in library_notebooks() if n != '15_front_door'])
    index += toctree('Reference', ['api', 'contributing', 'license', 'citation'])
    (src/'index.md').write_text(index)


def main(out:Path):
    src = ROOT/'build'/'docs-src'
    started = time.perf_counter()
    stage(src)
    done = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', '2', str(src), str(out)])
    if done.returncode: sys.exit(done.returncode)
    pages = len(list(out.glob('*.html')))
    print(f"built {pages} pages into {out} in {time.perf_counter() - started:.0f} s; open {out/'index.html'}")


if __name__ == '__main__':
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT/'build'/'docs')
