"""Headless Chromium approves a synthetic query with the keyboard shortcut; the decision is stored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from core import review
from core.generation import OfflineGenerator, generate
from core.store import Store
from tests.conftest import ROOT, fill_small, free_port, start_app

pytestmark = pytest.mark.browser

WRAPPER = """
import streamlit as st
from ui.common import sidebar
page = st.navigation([st.Page({page!r}, title="Review")])
sidebar()
page.run()
"""


def start_review_app(workspace: str, tmp_path) -> tuple[subprocess.Popen, str]:
    """(process, URL of the review page): the real app once pages/review.py is registered in app.py,
    until then a frame around the page alone (its only page, so it is served at the root)."""
    if "pages/review.py" in (ROOT / "app.py").read_text():
        process, url = start_app(workspace)
        return process, url + "/review"
    script = tmp_path / "review_app.py"
    script.write_text(WRAPPER.format(page=str(ROOT / "pages" / "review.py")))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, "FLYWHEEL_WORKSPACE": workspace, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return process, url + "/"
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not start within 60 s")


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
        process.terminate()
        process.wait(timeout=10)
