"""Sphinx configuration of the documentation site, built offline by `make docs` (docs/build.py stages its sources)."""
import re

project = 'autosparse'
author = 'autosparse developers'
copyright = '2026, autosparse developers'
extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.viewcode']
myst_enable_extensions = ['dollarmath']
nb_execution_mode = 'off'          # every notebook is shown with the outputs it is committed with
nb_render_markdown_format = 'myst'
html_theme = 'furo'
html_title = 'autosparse'
html_static_path = []
exclude_patterns = ['_build', '**.ipynb_checkpoints', 'README.md']
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'misc.highlighting_failure']
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_default_options = dict(members=True, undoc_members=False, show_inheritance=False)


def plain(text:str)->str:
    "A docstring written for readers, not for reStructuredText: `code` as code, |x| and * as themselves."
    text = re.sub(r'(?<!`)`([^`]+)`(?!`)', r'``\1``', text)
    return re.sub(r'(?<!`)([|*])(?!`)', r'\\\1', text)

def documented_arguments(app, what, name, obj, options, lines):
    "Docstrings as plain text, with each argument's trailing comment in the signature (nbdev's docments) as a parameter line."
    lines[:] = [plain(line) for line in lines]
    if what not in ('function', 'method', 'class') or not callable(obj): return
    from fastcore.docments import docments
    try: comments = docments(obj, full=True)
    except Exception: return
    described = [f':param {name}: {plain(entry["docment"])}' for name, entry in comments.items()
                 if name != 'return' and entry.get('docment')]
    if described: lines.extend(['', *described])


def setup(app):
    app.connect('autodoc-process-docstring', documented_arguments)
