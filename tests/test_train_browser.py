"""Headless Chromium launches an adapter run from the Train page and sees its before → after headline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.storage.store import Store

pytestmark = pytest.mark.browser


def test_launch_an_adapter_run_and_read_the_headline(browser, live_app, workspace, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(live_app + "/train?reviewer=ann")
    page.get_by_text("adapter", exact=True).click()
    page.get_by_role("button", name="Train").click()
    headline = page.get_by_test_id("stMetric").filter(has_text="→").first
    expect(headline).to_be_visible(timeout=240_000)
    page.screenshot(path=str(tmp_path / "train.png"), full_page=True)
    runs = Store(workspace.db_uri).read("runs", columns=["kind", "status"])
    assert list(zip(runs["kind"], runs["status"])) == [("adapter", "succeeded")]
