"""Headless Chromium approves a synthetic query with the keyboard shortcut; the decision is stored."""

from __future__ import annotations

import subprocess
import time

import pytest

from core.labeling import review
from core.labeling.generation import OfflineGenerator, generate
from core.storage.store import Store
from tests.browser_steps import wait_idle
from tests.conftest import fill_small, start_app, stop_app

pytestmark = pytest.mark.browser



def start_review_app(workspace: str, tmp_path) -> tuple[subprocess.Popen, str]:
    """(process, URL of the review page) of the real app."""
    process, url = start_app(workspace)
    return process, url + "/review"


def wait_for(condition, timeout: float = 20.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if condition():
            return time.perf_counter() - start
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_approve_with_the_keyboard_in_chromium(browser, workspace, tmp_path):
    store = fill_small(Store(workspace.db_uri))
    docs = store.read("documents", columns=["doc_id", "title", "text"]).head(5)
    ids = generate(store, OfflineGenerator(0), docs).written
    texts = {q: review._query_row(store, q)["text"] for q in ids}
    process, url = start_review_app(workspace.workspace, tmp_path)
    try:
        page = browser.new_page()
        page.goto(url)
        page.get_by_label("Reviewer", exact=True).fill("ann")
        page.keyboard.press("Enter")
        page.get_by_text(texts[ids[0]], exact=True).wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Approve").inner_text().replace("\n", " ").strip() != "Approve"  # the shortcut is shown
        page.get_by_role("heading", name="Review synthetic queries").click()  # focus the page, not the name field
        timings = []
        for current, following in zip(ids, ids[1:], strict=False):
            pressed = time.perf_counter()
            page.keyboard.press("a")
            page.get_by_text(texts[following], exact=True).wait_for(timeout=30_000)
            timings.append(time.perf_counter() - pressed)
            stored = review._query_row(store, current)
            assert stored["status"] == "approved" and stored["reviewer"] == "ann"
            assert list(review.history(store, [current])["action"]) == ["approve"]
        assert review._query_row(store, ids[-1])["status"] == "pending"
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        print(f"\nreview decision, key press to next item on screen (ms): {[round(t * 1000) for t in timings]}")
    finally:
        stop_app(process)  # stops, or is killed: torch makes a busy server slow to exit


def open_review(browser, url: str, texts: dict, first: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url + "?reviewer=ann")
    page.get_by_text(texts[first], exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("heading", name="Review synthetic queries").click()  # focus the page
    return page


def press_until(page, key: str, text: str) -> None:
    """Press `key`, then wait until the item on screen is the query `text` (the skipped list may name it too)."""
    page.keyboard.press(key)
    page.get_by_test_id("review-query").and_(page.get_by_text(text, exact=True)).wait_for(timeout=30_000)
    wait_idle(page)


def test_undo_takes_back_the_skip_and_a_reason_box_hands_back_the_keys(browser, workspace, tmp_path):
    """Issue 24: X (reject) → S (skip) → U brought back the *rejected* query and left the skip; and after
    typing a reject reason, X typed an 'x' into the box instead of rejecting."""
    store = fill_small(Store(workspace.db_uri))
    ids = generate(store, OfflineGenerator(0), store.read("documents", columns=["doc_id", "title", "text"]).head(4)).written
    texts = {q: review._query_row(store, q)["text"] for q in ids}
    process, url = start_review_app(workspace.workspace, tmp_path)
    try:
        page = open_review(browser, url, texts, ids[0])
        press_until(page, "x", texts[ids[1]])  # reject the first
        press_until(page, "s", texts[ids[2]])  # skip the second
        press_until(page, "u", texts[ids[1]])  # undo: the skipped one is back on screen...
        assert review._query_row(store, ids[0])["status"] == "rejected"  # ...and the rejection stands
        box = page.get_by_role("textbox", name="Reject reason (optional)")
        box.click()
        box.fill("not answerable from this document")
        box.press("Enter")  # the reason is taken, the keys go back to the page
        page.wait_for_function("() => document.activeElement?.tagName !== 'INPUT'")
        time.sleep(0.5)  # the rerun that commits the reason may not have shown its status widget yet
        wait_idle(page)
        press_until(page, "x", texts[ids[2]])
        rejected = review._query_row(store, ids[1])
        assert rejected["status"] == "rejected" and rejected["reject_reason"] == "not answerable from this document"
        assert review.review_summary(store)["rejected"].sum() == 2
        page.screenshot(path="/tmp/review.png", full_page=False)
    finally:
        stop_app(process)  # stops, or is killed: torch makes a busy server slow to exit
