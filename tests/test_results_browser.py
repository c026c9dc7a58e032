from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import start_app
from tests.results_seed import seed_results


def _serve(workspace: str, tmp_path) -> tuple[subprocess.Popen, str]:
    process, url = start_app(workspace)
    return process, url + "/results"


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
