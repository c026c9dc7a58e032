"""The Hard negatives page through AppTest: mining with progress, then a queue decided one candidate at a time."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.labeling import grading, hardnegatives
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "hard_negatives.py")


def card(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Query**"))


def test_mine_then_decide_one_candidate_at_a_time(small_store):
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["reviewer"] = "ann"
    at.run()
    assert any("Mine candidates to start the queue" in c.value for c in at.caption)
    at.button(key="FormSubmitter:hn_mine-Mine candidates").click().run()
    assert not at.exception, at.exception
    queue = at.session_state["hn_candidates"]
    assert queue and sum(m.value.startswith("**Query**") for m in at.markdown) == 1  # one candidate on screen, not a wall
    assert any(f"Candidate 1 of {len(queue)}" in p.proto.text for p in at.get("progress"))
    first = queue[0]
    assert f"`{first['doc_id']}`" in card(at)

    at.segmented_control(key="hn_grade").set_value(1).run()
    at.button(key="hn_yes").click().run()
    assert not at.exception, at.exception
    mine = grading.judgments_for(small_store, first["query_id"], "ann").set_index("doc_id").loc[first["doc_id"]]
    assert bool(mine["hard_negative"]) and mine["grade"] == 1
    assert len(at.session_state["hn_candidates"]) == len(queue) - 1
    second = queue[1]
    assert f"`{second['doc_id']}`" in card(at) and f"Candidate 1 of {len(queue) - 1}" in at.get("progress")[0].proto.text

    at.button(key="hn_no").click().run()
    assert (second["query_id"], second["doc_id"]) in hardnegatives.decided_pairs(small_store)
    assert grading.judgments_for(small_store, second["query_id"], "ann").query(f"doc_id == '{second['doc_id']}'").empty

    at.button(key="hn_next").click().run()
    assert f"`{queue[3]['doc_id']}`" in card(at)  # skipped past the third: nothing stored for it
    at.segmented_control(key="hn_source").set_value("never graded").run()
    assert "never graded" in card(at)
    at.text_input(key="hn_filter").set_value("no query says this").run()
    assert any("No undecided candidate here" in s.value for s in at.success)
