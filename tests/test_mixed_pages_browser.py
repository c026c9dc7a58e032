"""Every page, every tab, on a workspace that mixes the demo, a test-only BEIR import and an approved
synthetic query, in Chromium (issue 24): no page may show Streamlit's error box, nor the app's own
'unexpected error' message (the frame is a safety net, not a pass). A small run trains on that mix
from the Train page (the split crashed there), and its results are walked too."""

from __future__ import annotations

import pytest

from core.storage.schemas import Split
from core.storage.store import Store
from tests.browser_steps import settled, start_small_adapter_run
from tests.conftest import start_app, stop_app
from tests.mixed_seed import build_mixed

pytestmark = pytest.mark.browser
BROKEN = "[data-testid=stException]"  # Streamlit's "This app has encountered an error" box


def assert_whole(page, where: str) -> None:
    settled(page)
    assert page.locator(BROKEN).count() == 0, f"{where}: Streamlit's error box: {page.locator(BROKEN).first.inner_text()[:500]}"
    assert page.get_by_text("unexpected error").count() == 0, f"{where}: {page.get_by_text('unexpected error').first.inner_text()}"


def walk(page, url: str, path: str) -> None:
    """Open a page, then each of its tabs in turn."""
    page.goto(f"{url}/{path}?reviewer=ann")
    assert_whole(page, path or "home")
    for i, name in enumerate(page.get_by_role("tab").all_inner_texts()):
        page.get_by_role("tab").nth(i).click()  # by place: a tab's text can hold an icon's name
        assert_whole(page, f"{path}, tab {name}")


def test_every_page_takes_a_workspace_of_mixed_origins(browser, workspace, tmp_path):
    store = Store(workspace.db_uri)
    build_mixed(store, tmp_path)
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?reviewer=ann")
        settled(page)
        paths = sorted({href.rsplit("/", 1)[-1].split("?")[0]
                        for href in page.locator("[data-testid=stSidebarNav] a").evaluate_all("links => links.map(a => a.href)")})
        assert {"data", "review", "grade", "train", "results", "agreement"} <= set(paths), paths
        for path in paths:
            walk(page, url, path)

        # Train on the mix from the page: the seeded split is drawn first, over every origin.
        start_small_adapter_run(page, url, steps=10)
        ended = page.get_by_text("status succeeded").or_(page.get_by_text("Run failed"))
        ended.or_(page.locator(BROKEN)).or_(page.get_by_text("unexpected error")).first.wait_for(timeout=300_000)
        assert_whole(page, "train, after the run")
        assert store.read("runs")["status"].tolist() == ["succeeded"]
        assert store.count("queries", f"status = 'approved' AND split = '{Split.none.value}'") == 0
        walk(page, url, "results")
    finally:
        stop_app(process)
