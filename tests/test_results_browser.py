from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port, start_app
from tests.results_seed import seed_results


def _serve(workspace: str, tmp_path) -> tuple[subprocess.Popen, str]:
    """The real app when it registers the Results page; until then the page in the same wide frame."""
    if "pages/results.py" in (ROOT / "app.py").read_text():
        process, url = start_app(workspace)
        return process, url + "/results"
    main = tmp_path / "frame.py"
    main.write_text("import streamlit as st\nst.set_page_config(page_title='Flywheel', layout='wide')\n"
                    f"st.navigation([st.Page({str(ROOT / 'pages' / 'results.py')!r}, title='Results')]).run()\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(main), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, "FLYWHEEL_WORKSPACE": workspace, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not start within 60 s")


@pytest.mark.browser
def test_results_page_screenshot(browser, store, workspace, tmp_path):
    seed_results(store)
    process, url = _serve(workspace.workspace, tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(url)
        page.get_by_text("Better on 14 queries, worse on 2, no change on 24.").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # let plotly finish drawing
        assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "0.525"
        assert page.locator(".js-plotly-plot").count() >= 4
        assert "Traceback" not in page.content()
        page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
        page.get_by_role("tab", name="Drill-down").click()
        page.get_by_role("button", name="Grade more for this query").first.wait_for(timeout=10_000)
        page.wait_for_timeout(2000)  # let the data grids draw
        page.screenshot(path=str(tmp_path / "results-drill.png"), full_page=True)
        page.get_by_role("tab", name="Compare runs").click()
        page.get_by_text("Learning curve").first.wait_for(timeout=10_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(tmp_path / "results-compare.png"), full_page=True)
        assert (tmp_path / "results.png").stat().st_size > 50_000
        if os.environ.get("FLYWHEEL_SCREENSHOTS"):
            for name in ("results.png", "results-drill.png", "results-compare.png"):
                (tmp_path / name).replace(os.path.join(os.environ["FLYWHEEL_SCREENSHOTS"], name))
    finally:
        process.terminate()
        process.wait(timeout=10)
