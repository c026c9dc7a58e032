"""An import in Chromium: its embedding progress shows where the Import button was, and the result
only once the documents are searchable (issue 24: the result showed while the page embedded for
140 s, its bar out of sight below)."""

from __future__ import annotations

import json
import time

import pytest

from core.storage.store import Store
from tests.conftest import start_app, stop_app

DOCS = 4000  # enough documents that embedding them takes a few seconds to watch


@pytest.mark.browser
def test_import_shows_its_embedding_progress_under_the_button_before_the_result(browser, store, workspace, tmp_path):
    upload = tmp_path / "plans.jsonl"
    upload.write_text("".join(json.dumps({"_id": f"p{i}", "title": f"Plan {i}", "text": f"Plan {i} covers visit type {i % 97} "
                                          f"with a copay of {i % 50} dollars."}) + "\n" for i in range(DOCS)))
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/data?reviewer=ann")
        page.get_by_role("tab", name="Import").click()
        page.locator("input[type='file'][accept*='.zip']").set_input_files(str(upload))
        button = page.get_by_role("button", name="Import", exact=True)
        page.wait_for_function("() => [...document.querySelectorAll('button')].some((b) => b.innerText.trim() === 'Import' && !b.disabled)",
                               timeout=60_000)
        below = button.bounding_box()["y"] + button.bounding_box()["height"]
        button.click()
        bar = page.locator("[data-testid='stProgress']").filter(has_text="Embedding")
        bar.wait_for(timeout=120_000)
        seen = bar.bounding_box()
        result_too = page.get_by_text(f"Imported {DOCS:,} documents").is_visible()
        page.screenshot(path="/tmp/import.png")
        page.get_by_text(f"Imported {DOCS:,} documents").wait_for(timeout=300_000)
        assert not result_too  # not "done" while the documents are still being embedded
        assert seen is not None and seen["y"] - below < 150  # right where the button was, not below the result
        deadline = time.time() + 10
        while Store(workspace.db_uri).count("documents") < DOCS and time.time() < deadline:
            time.sleep(0.2)
        assert Store(workspace.db_uri).count("documents") == DOCS
    finally:
        stop_app(process)
