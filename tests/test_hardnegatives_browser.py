"""First visits in a real browser (issue 24): Hard negatives opens with candidates mined in the
background, in words for annotators and blind by default, its card and keys above the fold."""

from __future__ import annotations

import time

import pytest

from core.labeling import hardnegatives
from core.storage.store import Store
from tests.browser_steps import wait_idle

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}


def test_hard_negatives_open_with_candidates_blind_and_keys_above_the_fold(browser, live_app, workspace):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(live_app + "/?reviewer=ann")
    page.get_by_text("Flywheel milestones").wait_for(timeout=60_000)
    wait_idle(page, 120_000)

    clicked = time.perf_counter()
    page.get_by_role("link", name="Hard negatives").click()
    card = page.locator(".st-key-hn_card")
    card.or_(page.get_by_text("Finding candidates for the workspace")).first.wait_for(timeout=3_000)  # never a blank page
    loading = time.perf_counter() - clicked
    card.wait_for(timeout=180_000)  # no form to fill in first: mined in the background
    ready = time.perf_counter() - clicked
    wait_idle(page, 120_000)
    page.screenshot(path="/tmp/hard_negatives.png")
    words = card.inner_text()
    assert any(why in words for why in hardnegatives.WHY.values()) and "score" not in words  # blind by default
    assert page.locator(".st-key-hn_yes").bounding_box()["y"] + 40 < VIEWPORT["height"]  # its keys above the fold
    page.locator("h1").first.click()
    page.keyboard.press("h")
    deadline = time.time() + 30
    while Store(workspace.db_uri).count("judgments", "reviewer = 'ann' AND hard_negative = true") == 0 and time.time() < deadline:
        time.sleep(0.1)
    assert Store(workspace.db_uri).count("judgments", "reviewer = 'ann' AND hard_negative = true") == 1

    print(f"\nHard negatives: loading state {loading:.2f} s, candidates {ready:.1f} s")
