"""A plain (non-editable) install works: `pip wheel .` then a fresh venv runs `flywheel`
from another folder, loads the demo shipped in the wheel, and serves the app."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, stop_app

CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}  # nothing may leak the checkout in


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """A fresh venv with only the wheel installed; dependencies come from this venv by a .pth
    line (so no download), while `core`, `ui`, `pages` and `app` must come from the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist")],
                   check=True, cwd=tmp, env=CLEAN_ENV)
    wheel = next((tmp / "dist").glob("flywheel-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=CLEAN_ENV)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, env=CLEAN_ENV).stdout.strip()
    (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], check=True, env=CLEAN_ENV)
    return venv, tmp


def _run(venv, cwd, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "flywheel"), *args], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True, timeout=300)


def test_the_wheel_runs_the_cli_and_loads_the_demo_from_anywhere(wheel_venv):
    venv, tmp = wheel_venv
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import core.commands.main, ui.launch; print(core.commands.main.__file__, ui.launch.APP)"],
                           cwd=tmp, capture_output=True, text=True, check=True, env=CLEAN_ENV).stdout
    assert str(ROOT) not in where and str(venv) in where  # the installed copy, not the checkout
    assert _run(venv, tmp, "--help").returncode == 0
    loaded = _run(venv, tmp, "--workspace", str(tmp / "ws"), "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert '"documents": 373' in loaded.stdout


@pytest.mark.browser
def test_the_wheel_serves_the_app(wheel_venv, browser):
    venv, tmp = wheel_venv
    port = free_port()
    process = subprocess.Popen([str(venv / "bin" / "flywheel"), "--workspace", str(tmp / "ws2"), "app", "--port", str(port), "--headless"],
                               cwd=tmp, env=CLEAN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        page = browser.new_page()
        page.goto(url + "/review")
        page.get_by_role("heading", name="Review synthetic queries").first.wait_for(timeout=60_000)
        assert "Traceback" not in page.content()
    finally:
        os.killpg(process.pid, 15)
        stop_app(process)
