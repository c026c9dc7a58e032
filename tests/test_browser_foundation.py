"""Headless Chromium opens Home and Data on a live app and sees real content."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_and_data_in_a_browser(browser, live_app, tmp_path):
    page = browser.new_page()
    page.goto(live_app)
    page.get_by_text("Flywheel milestones").wait_for(timeout=60_000)
    expect(page.get_by_test_id("stMetric").filter(has_text="Documents")).to_contain_text("12", timeout=30_000)
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    page.get_by_role("link", name="Data").click()
    page.get_by_text("12 documents").wait_for(timeout=60_000)
    page.get_by_label("Search documents").fill("appeal a denied claim")
    page.keyboard.press("Enter")
    page.get_by_text("How to appeal a denied claim").first.wait_for(timeout=90_000)
    page.screenshot(path=str(tmp_path / "data.png"), full_page=True)
