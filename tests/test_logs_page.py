"""The Logs page (AppTest and headless Chromium), log suggestions on the Grade page, the log upload on the Data page."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.labeling import logs
from core.storage.store import Store
from tests.conftest import ROOT, SMALL_DOCS, SMALL_QUERIES

LOGS = str(ROOT / "pages" / "logs.py")
GRADE = str(ROOT / "pages" / "grade.py")


def import_small_log(store, tmp_path) -> None:
    """Every small query logged once, all 12 documents retrieved, the first one cited; q8 got a thumbs-down."""
    docs = [d for d, _, _ in SMALL_DOCS]
    rows = [{"id": f"i{n}", "timestamp": f"2026-03-0{1 + n % 3}T10:00:00Z", "query": text,
             "retrieved": [{"doc_id": d, "rank": r, "score": None} for r, d in enumerate(docs, start=1)], "cited": docs,
             **({"feedback": {"thumbs": "down"}} if qid == "q8" else {})}
            for n, (qid, text, _, _) in enumerate(SMALL_QUERIES)]
    rows.append({**rows[0], "id": "i-new", "query": "vision coverage for glasses", "cited": []})
    path = tmp_path / "prod.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    logs.import_logs(store, path)


def test_empty_logs_page_says_how_to_start(small_store):
    at = AppTest.from_file(LOGS, default_timeout=60).run()
    assert not at.exception
    assert "No interactions logged yet" in at.info[0].value


def test_logs_page_shows_traffic_and_promotes_to_eval(small_store, tmp_path):
    import_small_log(small_store, tmp_path)
    at = AppTest.from_file(LOGS, default_timeout=60)
    at.session_state["reviewer"] = "ann"
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Interactions"] == "9" and metrics["Distinct queries"] == "9"
    assert metrics["Feedback rate"] == "11%" and metrics["Thumbs-down share"] == "100%"
    top = at.dataframe[0].value
    assert len(top) == 9 and set(top["origin"]) == {"imported", "log"}
    new = small_store.read("queries", where="origin = 'log'")["query_id"].iloc[0]
    at.selectbox(key="logs_pick").set_value(new).run()
    at.button(key="logs_to_eval").click().run()
    assert not at.exception
    assert f"`{new}` sent to the eval split." in at.success[0].value
    row = small_store.read("queries", where=f"query_id = '{new}'").iloc[0]
    assert (row["status"], row["split"], row["reviewer"]) == ("approved", "eval", "ann")


def test_grade_page_shows_log_suggestions(small_store, tmp_path):
    import_small_log(small_store, tmp_path)
    at = AppTest.from_file(GRADE, default_timeout=120)
    at.session_state["reviewer"] = "ann"
    at.session_state["g_mode"] = "full-text"
    at.session_state["g_k"] = 3
    at.run()
    at.toggle(key="g_suggest").set_value(True).run()
    assert not at.exception
    badge = at.button(key="grade_3")  # a suggestion is a badge on its grade, its words on hover (the Grade page since #24)
    assert "suggested" in badge.label and not any("suggested" in at.button(key=f"grade_{g}").label for g in (0, 1, 2, 4, 5))
    assert "likely relevant" in badge.help and "cited in 1 of 1 answers" in badge.help  # shown escaped (data renders as text)
    assert small_store.count("judgments", "reviewer = 'ann'") == 0  # a suggestion is never a judgment


def test_grade_page_thumbs_down_first(small_store, tmp_path):
    import_small_log(small_store, tmp_path)
    at = AppTest.from_file(GRADE, default_timeout=120)
    at.session_state["reviewer"] = "ann"
    at.session_state["g_mode"] = "full-text"
    at.session_state["g_strategy"] = "thumbs-down first"
    at.run()
    assert not at.exception
    assert next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1] == "q8"


@pytest.mark.browser
def test_logs_page_in_chromium(browser, live_app, small_store, tmp_path):
    import_small_log(small_store, tmp_path)
    page = browser.new_page()
    page.goto(live_app + "/logs")
    page.get_by_label("Reviewer", exact=True).fill("ann")
    page.keyboard.press("Enter")
    page.get_by_text("Most frequent queries").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stMetricValue']").nth(1).wait_for(timeout=60_000)  # the headline can draw after the table's title
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert values[:2] == ["9", "9"]
    page.get_by_role("button", name="To the eval split").click()
    page.get_by_text("sent to the eval split").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "logs.png"), full_page=True)
    promoted = Store(small_store.uri).read("queries", where="split = 'eval' AND reviewer = 'ann'")
    assert len(promoted) == 1
