"""The documentation site, built offline from the notebooks and read in headless Chromium: the pages that matter render
with their figures, every internal link resolves, and search finds `prune`. A screenshot of each is kept in
build/test-artifacts/."""
import functools, http.server, re, shutil, subprocess, sys, threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT/'build'/'test-artifacts'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
                  '--disable-background-networking', '--disable-component-update']  # this machine's network is closed


class Links(HTMLParser):
    "Every href and src of a page, and every id it defines."
    def __init__(self):
        super().__init__(); self.targets, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ('href', 'src') and value: self.targets.append(value)
            if name == 'id' and value: self.ids.add(value)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs')/'site'
    done = subprocess.run([sys.executable, str(ROOT/'docs'/'build.py'), str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return out


def test_every_internal_link_resolves(site):
    pages = {p: Links() for p in site.rglob('*.html')}
    for page, links in pages.items(): links.feed(page.read_text())
    broken = []
    for page, links in pages.items():
        for target in links.targets:
            parts = urlsplit(target)
            if parts.scheme or target.startswith(('//', 'mailto:', 'javascript:', 'data:')): continue
            path = (page.parent/unquote(parts.path)).resolve() if parts.path else page
            if path.is_dir(): path = path/'index.html'
            if not path.exists(): broken.append(f'{page.relative_to(site)}: {target}')
            elif parts.fragment and path.suffix == '.html' and parts.fragment not in pages[path].ids:
                broken.append(f'{page.relative_to(site)}: {target} (no such anchor)')
    assert len(pages) > 40 and not broken, broken[:20]


def test_the_pages_render_with_their_figures_and_search_finds_prune(site):
    from playwright.sync_api import sync_playwright
    chromium = shutil.which('chromium')
    assert chromium, "Debian's chromium is missing: `make browser` installs it"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}'
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    loaded = "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport=dict(width=1300, height=1000))
            for name, path, wanted in [('docs-home', '/index.html', 'The answer'), ('docs-api-prune', '/api-registry.html#autosparse.registry.prune', 'min_density'),
                                       ('docs-source', '/source.html', 'The source table')]:
                page.goto(url + path); page.wait_for_load_state('load')
                assert wanted in page.inner_text('body'), (name, wanted)
                assert page.evaluate(loaded) == [], (name, page.evaluate(loaded))
                images = page.evaluate("() => document.images.length")
                assert name == 'docs-api-prune' or images > 0, (name, images)
                page.screenshot(path=str(ARTIFACTS/f'{name}.png'))
            page.goto(url + '/search.html?q=prune')
            page.wait_for_selector('#search-results li a', timeout=60_000)
            found = page.locator('#search-results li a').all_inner_texts()
            assert any('prune' in text for text in found), found[:10]
            page.screenshot(path=str(ARTIFACTS/'docs-search.png'))
            browser.close()
    finally: server.shutdown()
