"""Issue 24's smaller surprises, in Chromium: a narrow sign-in form the browser's password manager
fills, Home's next step following the state (queries waiting for review), and value labels on the
every-metric bars at a readable size."""

from __future__ import annotations

import pytest

from core.labeling.generation import OfflineGenerator, generate
from core.storage.auth import Users
from tests.conftest import PASSWORD, start_app, stop_app
from tests.results_seed import seed_results


@pytest.mark.browser
def test_sign_in_then_home_then_results_read_well(browser, store, workspace):
    seed_results(store)  # runs that succeeded: the old Home gave training advice from them
    pending = generate(store, OfflineGenerator(0), store.read("documents", columns=["doc_id", "title", "text"]).head(3)).written
    Users(workspace.users_file).add("ada", "admin", PASSWORD)
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        password = page.get_by_role("textbox", name="Password")
        password.wait_for(timeout=60_000)
        assert password.get_attribute("autocomplete") == "current-password"  # not "new-password": saved passwords fill it
        assert page.get_by_role("textbox", name="Name").get_attribute("autocomplete") == "username"
        assert page.locator("[data-testid='stForm']").bounding_box()["width"] <= 480  # a sign-in box, not a 1,250 px band
        page.screenshot(path="/tmp/sign-in.png")
        page.get_by_role("textbox", name="Name").fill("ada")
        password.fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.get_by_text(f"{len(pending)} queries wait for review").wait_for(timeout=60_000)  # Home's next step

        page.get_by_role("link", name="Results").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        labels = page.locator(".js-plotly-plot").filter(has_text="Every metric").locator("text.bartext")
        labels.first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)  # let plotly finish sizing its labels
        sizes = labels.evaluate_all("(nodes) => nodes.map((n) => parseFloat(getComputedStyle(n).fontSize))")
        page.locator(".js-plotly-plot").filter(has_text="Every metric").scroll_into_view_if_needed()
        page.screenshot(path="/tmp/results.png")
        assert len(sizes) >= 40 and min(sizes) >= 12, sizes  # they were 10 px: digits ~7 px high
    finally:
        stop_app(process)
