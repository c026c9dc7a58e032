"""AppTest of pages/review.py: generate offline, then approve / edit / reject / skip / undo, checking the stored rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.labeling import review
from core.labeling.generation import OfflineGenerator, generate

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "review.py")


def page(reviewer: str | None = "ann") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if reviewer:
        at.session_state["reviewer"] = reviewer
    return at.run()


def shown(at: AppTest) -> str:
    """The query id on screen."""
    return at.session_state["review_current"]


def status(store, query_id: str) -> dict:
    return review._query_row(store, query_id)


@pytest.fixture
def queued(small_store):
    docs = small_store.read("documents", columns=["doc_id", "title", "text"]).head(5)
    return small_store, generate(small_store, OfflineGenerator(0), docs).written


def test_without_a_reviewer_name_nothing_is_claimed(queued):
    store, _ = queued
    at = page(reviewer=None)
    assert "Enter your name" in at.info[0].value and store.count("claims", "reviewer != ''") == 0


def test_offline_generation_from_the_page(small_store):
    at = page()
    assert any("Offline generator" in i.value for i in at.info)
    at.number_input[0].set_value(6)
    at.button(key="FormSubmitter:generate_form-Generate").click().run()
    assert not at.exception and "6 new pending queries" in at.success[0].value
    assert not next(e for e in at.expander if "Generate" in e.label).proto.expanded  # folded after use, the item on top
    rows = small_store.read("queries", where="origin = 'synthetic'")
    assert len(rows) == 6 and set(rows["generator"]) == {"offline@v1"} and set(rows["status"]) == {"pending"}
    assert shown(at) in set(rows["query_id"])  # the first one is on screen, claimed by ann


def test_approve_then_next_item(queued):
    store, ids = queued
    at = page()
    first = shown(at)
    html = "".join(h.proto.body for h in at.get("html"))
    assert first == ids[0] and "deductible</mark> of $2,000" in html  # source document, overlap marked
    at.button(key="approve").click().run()
    assert status(store, first)["status"] == "approved" and status(store, first)["reviewer"] == "ann"
    assert shown(at) == ids[1] and at.success[0].value == "Approved."


def test_edit_then_approve_keeps_original(queued):
    store, ids = queued
    at = page()
    original = status(store, ids[0])["text"]
    at.button(key="edit").click().run()
    at.text_input(key=f"edit_{ids[0]}").set_value("silver ppo deductible 2025")
    at.button(key="save_edit").click().run()
    stored = status(store, ids[0])
    assert stored["text"] == "silver ppo deductible 2025" and stored["original_text"] == original and stored["status"] == "approved"


def test_reject_with_reason_and_skip(queued):
    store, ids = queued
    at = page()
    at.text_input(key=f"reason_{ids[0]}").set_value("too vague")
    at.button(key="reject").click().run()
    assert status(store, ids[0])["status"] == "rejected" and status(store, ids[0])["reject_reason"] == "too vague"
    assert shown(at) == ids[1]
    at.button(key="skip").click().run()
    assert status(store, ids[1])["status"] == "pending" and shown(at) == ids[2]
    assert list(review.history(store, [ids[1]])["action"]) == ["skip"]


def test_undo_brings_the_last_decision_back_on_screen(queued):
    store, ids = queued
    at = page()
    at.button(key="approve").click().run()
    assert shown(at) == ids[1]
    at.button(key="undo").click().run()
    assert shown(at) == ids[0] and status(store, ids[0])["status"] == "pending"
    assert list(review.history(store, [ids[0]]).sort_values("at")["action"]) == ["approve", "undo"]
    at.button(key="undo").click().run()
    assert "Nothing to undo." in [i.value for i in at.info]


def test_two_sessions_see_different_items_and_a_stale_decision_is_refused(queued):
    store, ids = queued
    ann, bob = page("ann"), page("bob")
    assert shown(ann) != shown(bob)
    stale = shown(bob)
    review.release(store, stale, "bob")  # bob's lease ran out while he was away …
    review.approve(store, "ann", stale)  # … and ann approved the item meanwhile
    bob.button(key="approve").click().run()
    assert status(store, stale)["reviewer"] == "ann"  # never approved twice
    assert "already approved by ann" in bob.warning[0].value and shown(bob) not in (stale, shown(ann))
    assert list(review.history(store, [stale])["action"]) == ["approve"]


def test_filters_and_decided_table(queued):
    store, ids = queued
    at = page()
    at.selectbox(key="review_filter_doc").set_value("d3").run()
    assert status(store, shown(at))["source_doc_id"] == "d3"
    at.button(key="approve").click().run()
    table = at.dataframe[0].value
    assert list(table["query_id"]) == [ids[2]] and table["history"].iloc[0].startswith("approve by ann")


def test_skipped_items_are_listed_and_reachable(queued):
    """Skipped items no longer vanish: they are listed under the queue and one click brings one back."""
    store, ids = queued
    at = page()
    at.button(key="skip").click().run()
    assert shown(at) == ids[1]
    assert any("Skipped this session (1)" in e.label for e in at.expander)
    at.button(key=f"unskip_{ids[0]}").click().run()
    assert not at.exception, at.exception
    assert shown(at) == ids[0] and not any("Skipped this session" in e.label for e in at.expander)


def test_item_comes_first_and_edit_focuses_the_box(queued):
    store, ids = queued
    at = page()
    generate = next(e for e in at.expander if "Generate" in e.label)
    assert not generate.proto.expanded  # folded away while there are items to review
    assert "data-fw-keys" in "".join(h.proto.body for h in at.get("html"))  # the ? overlay is on the page
    at.button(key="edit").click().run()
    assert any(f".st-key-edit_{ids[0]} input" in h.proto.body and "focus()" in h.proto.body for h in at.get("html"))
