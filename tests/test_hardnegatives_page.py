"""The Hard negatives page through AppTest: it opens with candidates mined in the background, decided one at a time."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from core.labeling import grading, hardnegatives
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "hard_negatives.py")


def card(at: AppTest) -> str:
    """The card's caption: why it is offered, and the query and document ids."""
    return next(c.value for c in at.caption if "query `" in c.value and "document `" in c.value)


def opened(reviewer: str = "ann") -> AppTest:
    """The page as a visit finds it once the background pass is done (a real browser polls with a fragment)."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["reviewer"] = reviewer
    at.run()
    deadline = time.time() + 120
    while "hn_candidates" not in at.session_state and time.time() < deadline and not at.exception:
        time.sleep(0.2)
        at.run()
    assert not at.exception, at.exception
    return at


def test_opens_with_candidates_then_decides_one_at_a_time(small_store):
    at = opened()
    queue = at.session_state["hn_candidates"]
    assert queue and sum("query `" in c.value and "document `" in c.value for c in at.caption) == 1  # one candidate on screen
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
    assert hardnegatives.WHY["never graded"] in card(at)
    at.text_input(key="hn_filter").set_value("no query says this").run()
    assert any("No undecided candidate here" in s.value for s in at.success)


def test_blind_mode_hides_the_score_and_a_second_visitor_gets_the_shared_pass_less_what_was_decided(small_store):
    at = opened()
    first = at.session_state["hn_candidates"][0]
    assert "score" not in card(at) and first["why"] in card(at)  # blind by default: words, no model number
    at.toggle(key="hn_blind").set_value(False).run()
    assert f"score {first['score']:.3f}" in card(at)
    at.button(key="hn_yes").click().run()
    bob = opened("bob")
    assert (first["query_id"], first["doc_id"]) not in {(r["query_id"], r["doc_id"]) for r in bob.session_state["hn_candidates"]}
    assert len(bob.session_state["hn_candidates"]) == len(at.session_state["hn_candidates"])
