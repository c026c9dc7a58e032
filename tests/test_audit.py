"""The audit sample (random order, longest prefix graded in full), its Grade queue, and the origin of accepted grades."""

from __future__ import annotations

from core.labeling import audit, grading
from core.storage.store import Store

EVAL = ["q5", "q6", "q7", "q8"]


def grade_in_full(store: Store, reviewer: str, query_id: str, docs: int = 12) -> None:
    for i in range(1, docs + 1):
        grading.grade(store, reviewer, query_id, f"d{i}", 0)


def test_the_order_is_seeded_and_a_new_query_does_not_reshuffle_it():
    first = audit.order(["a", "b", "c", "d", "e"])
    assert first == audit.order(["e", "d", "c", "b", "a"]) and sorted(first) == list("abcde")
    grown = audit.order(["a", "b", "c", "d", "e", "f"])
    assert [q for q in grown if q != "f"] == first
    assert audit.order(list("abcdefgh"), seed="other") != audit.order(list("abcdefgh"))


def test_the_sample_is_the_longest_prefix_graded_in_full(small_store):
    state = audit.audit(small_store, "eval")
    assert sorted(state.order) == EVAL and state.sample == [] and state.next_gap == state.order[0]
    grade_in_full(small_store, "ann", state.order[1])  # out of order: not in the sample yet
    state = audit.audit(small_store, "eval")
    assert state.sample == [] and state.out_of_order == [state.order[1]]
    assert "0 of 4 eval-split queries" in state.progress_line() and "1 more graded after a gap" in state.progress_line()
    grade_in_full(small_store, "bob", state.order[0])
    state = audit.audit(small_store, "eval")
    assert state.sample == state.order[:2] and state.out_of_order == []
    # imported qrels count as graded in full only when asked (a benchmark's complete judgments)
    assert audit.audit(small_store, "eval", include_imports=True).sample == state.order


def test_the_audit_queue_hands_out_eval_queries_in_audit_order(small_store):
    order = audit.audit(small_store, "eval").order
    queue = grading.queue_order(small_store, "ann", grading.Strategy.audit, k=10)
    assert [i.query_id for i in queue] == order and {i.queue for i in queue} == {grading.QUEUE}
    grade_in_full(small_store, "bob", order[0])
    grading.grade(small_store, "ann", order[2], "d1", 3)  # ann's own unfinished audit query comes first
    queue = grading.queue_order(small_store, "ann", grading.Strategy.audit, k=10)
    assert [i.query_id for i in queue] == [order[2], order[1], order[3]]
    item = grading.next_query(small_store, "cy", grading.Strategy.audit, k=10)
    assert item.query_id == order[1]  # ann's started one is claimed by nobody, but cy gets the next fresh one first
    assert grading.queue_order(small_store, "ann", grading.Strategy.audit_logs, k=10) == []  # no logged queries here


def test_an_accepted_suggestion_keeps_its_origin_through_flag_and_undo(small_store):
    grading.grade(small_store, "ann", "q5", "d10", 4, origin="cross-encoder:r1")
    row = grading.judgments_for(small_store, "q5", "ann")
    stored = small_store.read_rows("judgments", "reviewer = 'ann'")[0]
    assert len(row) == 1 and stored["origin"] == "cross-encoder:r1" and stored["grade"] == 4
    grading.set_hard_negative(small_store, "ann", "q5", "d10", True)
    assert small_store.read_rows("judgments", "reviewer = 'ann'")[0]["origin"] == "cross-encoder:r1"
    grading.grade(small_store, "ann", "q5", "d10", 2)  # the reviewer's own grade replaces it
    assert small_store.read_rows("judgments", "reviewer = 'ann'")[0]["origin"] == ""
    grading.undo_last(small_store, "ann")
    assert small_store.read_rows("judgments", "reviewer = 'ann'")[0]["origin"] == "cross-encoder:r1"


def test_an_older_workspace_gains_the_origin_column(tmp_path):
    import lancedb
    import pyarrow as pa

    path = str(tmp_path / "old")
    old = pa.schema([pa.field(name, kind, nullable=name not in ("query_id", "doc_id", "reviewer")) for name, kind in [
        ("query_id", pa.string()), ("doc_id", pa.string()), ("reviewer", pa.string()), ("grade", pa.int64()),
        ("hard_negative", pa.bool_()), ("note", pa.string()), ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us"))]])
    lancedb.connect(path).create_table("judgments", schema=old)
    store = Store(path)
    assert "origin" in store.table("judgments").schema.names
    grading.grade(store, "ann", "q1", "d1", 5, origin="llm:x")
    assert store.read_rows("judgments")[0]["origin"] == "llm:x"


def test_home_shows_the_audit_progress(small_store):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    grade_in_full(small_store, "ann", audit.audit(small_store, "eval").order[0])
    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("Audit sample: 1 of 4 eval-split queries graded in full" in c.value for c in at.caption)


def test_the_grade_page_explains_why_the_audit_sample_is_random(small_store):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "grade.py"), default_timeout=120)
    at.session_state["reviewer"], at.session_state["g_mode"], at.session_state["g_k"] = "ann", "full-text", 3
    at.session_state["g_strategy"] = grading.Strategy.audit.value
    at.run()
    assert not at.exception, at.exception
    assert any("valid only on a random sample" in c.value for c in at.caption)
    query = next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1]
    assert query == audit.audit(small_store, "eval").order[0]
