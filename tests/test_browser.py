"The explorer in a real browser: JupyterLab on a local port, the notebook run in headless Chromium, a control moved, the figure redrawn."
import os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # end to end: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT/'build'/'test-artifacts'   # the screenshots, kept after the test (build/ is not committed)
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
                  '--disable-background-networking', '--disable-component-update']  # this machine's network is closed

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_for(url:str, seconds:float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2): return
        except OSError: time.sleep(0.5)
    raise TimeoutError(f"nothing answered at {url} within {seconds} s")

@pytest.fixture
def lab(tmp_path):
    "JupyterLab serving a copy of the explorer (so that autosave never writes into nbs/), with a token; its URL and token."
    folder = tmp_path/'notebooks'; folder.mkdir()
    shutil.copy(ROOT/'nbs'/'explore.ipynb', folder)
    port, token = _free_port(), 'autosparse-test'
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path/'config'), JUPYTER_DATA_DIR=str(tmp_path/'data'),
               JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'), JUPYTER_PATH=str(Path(sys.prefix)/'share'/'jupyter'))
    command = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
               f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={folder}', '--LabApp.expose_app_in_browser=True',
               f'--LabApp.workspaces_dir={tmp_path/"workspaces"}', f'--LabApp.user_settings_dir={tmp_path/"settings"}']
    if os.geteuid() == 0: command.append('--allow-root')
    log = open(tmp_path/'lab.log', 'w')
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(f'http://127.0.0.1:{port}/api/status?token={token}', 120)
        yield f'http://127.0.0.1:{port}', token
    finally:
        server.terminate()
        try: server.wait(30)
        except subprocess.TimeoutExpired: server.kill()
        log.close()

def test_the_explorer_redraws_when_a_control_moves(lab):
    from playwright.sync_api import sync_playwright
    chromium = shutil.which('chromium')
    assert chromium, "Debian's chromium is missing: `make browser` installs it"
    url, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=dict(width=1400, height=1000))
            page.goto(f'{url}/lab/tree/explore.ipynb?token={token}')
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                                   "window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel", timeout=120_000)
            page.evaluate("window.jupyterapp.shell.currentWidget.sessionContext.ready.then("
                          "() => window.jupyterapp.commands.execute('notebook:run-all-cells'))")
            dropdown = page.locator('.widget-dropdown select')
            dropdown.wait_for(timeout=180_000)
            figure = page.locator('.widget-output img').last   # the controls' figure, drawn by interactive_output
            figure.wait_for(timeout=120_000)
            before = figure.get_attribute('src')
            targets = dropdown.locator('option').all_inner_texts()
            assert len(targets) > 1, f"the explorer offers one target only: {targets}"
            dropdown.select_option(targets[1])
            redrawn = ("before => { const shown = document.querySelectorAll('.widget-output img');"   # the output is redrawn anew
                       " return shown.length > 0 && shown[shown.length - 1].getAttribute('src') !== before; }")
            page.wait_for_function(redrawn, arg=before, timeout=60_000)
            explorer = page.locator('.widget-vbox').last
            explorer.scroll_into_view_if_needed(); explorer.screenshot(path=str(ARTIFACTS/'explorer.png'))
            assert figure.get_attribute('src') != before
        finally: browser.close()
