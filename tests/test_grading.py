from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.errors import InputError
from core.labeling import grading
from core.search.retrieval import corpus_matrix, rank_many
from core.storage import claims
from core.storage.schemas import Judgment, Query, now
from core.storage.store import Store


def _mine(store, reviewer, query_id="q1"):
    return grading.judgments_for(store, query_id, reviewer).set_index("doc_id")


def test_regrade_replaces_and_keeps_first_created_at(small_store):
    assert grading.grade(small_store, "ann", "q1", "d1", 4) is None
    first = _mine(small_store, "ann").loc["d1"]
    previous = grading.grade(small_store, "ann", "q1", "d1", 2, hard_negative=True, note="older plan year")
    assert previous["grade"] == 4
    rows = _mine(small_store, "ann")
    assert len(rows) == 1
    row = rows.loc["d1"]
    assert (row["grade"], bool(row["hard_negative"]), row["note"]) == (2, True, "older plan year")
    assert row["created_at"] == first["created_at"] and row["updated_at"] > first["updated_at"]
    # the imported judgment of the same (query, doc) is untouched: different reviewer key
    assert _mine(small_store, "import:small").loc["d1", "grade"] == 5


def test_each_grade_writes_an_event_with_the_previous_state(small_store):
    grading.grade(small_store, "ann", "q1", "d1", 4)
    grading.grade(small_store, "ann", "q1", "d1", 1)
    events = small_store.read("events", where="action = 'grade'").sort_values("at")
    assert list(events["target"]) == ["judgment:q1/d1"] * 2
    details = [json.loads(d) for d in events["detail"]]
    assert details[0]["previous"] is None and details[1]["previous"]["grade"] == 4 and details[1]["grade"] == 1


@pytest.mark.parametrize("bad", [6, -1, True, "3", 2.5])
def test_grade_rejects_values_outside_0_to_5(small_store, bad):
    with pytest.raises(InputError, match="integer 0–5"):
        grading.grade(small_store, "ann", "q1", "d1", bad)
    assert small_store.count("judgments", "reviewer = 'ann'") == 0


@pytest.mark.parametrize("who", ["", "  ", "import:x"])
def test_grade_needs_a_person(small_store, who):
    with pytest.raises(InputError, match="reviewer name"):
        grading.grade(small_store, who, "q1", "d1", 3)


def test_undo_walks_back_one_grade_at_a_time_across_handles(small_store, workspace):
    grading.grade(small_store, "ann", "q1", "d1", 4)
    grading.grade(small_store, "ann", "q1", "d1", 2)
    grading.grade(small_store, "ann", "q1", "d2", 0, hard_negative=True)
    grading.grade(small_store, "bob", "q1", "d2", 5)
    other = Store(workspace.db_uri)  # a second process's handle sees the same history
    assert grading.undo_last(other, "ann") == ("q1", "d2")
    assert "d2" not in _mine(small_store, "ann").index
    assert _mine(small_store, "bob").loc["d2", "grade"] == 5  # bob's grade is not ann's to undo
    assert grading.undo_last(small_store, "ann") == ("q1", "d1")
    assert _mine(small_store, "ann").loc["d1", "grade"] == 4
    assert grading.undo_last(small_store, "ann") == ("q1", "d1")
    assert _mine(small_store, "ann").empty
    assert grading.undo_last(small_store, "ann") is None
    assert small_store.count("events", "action = 'undo'") == 3


def test_set_hard_negative_only_flips_an_existing_grade(small_store):
    assert grading.set_hard_negative(small_store, "ann", "q1", "d2", True) is False
    grading.grade(small_store, "ann", "q1", "d2", 1, note="n")
    assert grading.set_hard_negative(small_store, "ann", "q1", "d2", True) is True
    row = _mine(small_store, "ann").loc["d2"]
    assert (row["grade"], bool(row["hard_negative"]), row["note"]) == (1, True, "n")


def _add_query(store, query_id, status="approved"):
    store.add("queries", [Query(query_id=query_id, text=f"text of {query_id}", status=status, created_at=now())])


def test_ungraded_first_and_only_approved_queries(small_store):
    _add_query(small_store, "q9")
    _add_query(small_store, "q10", status="pending")
    order = [i.query_id for i in grading.queue_order(small_store, "ann", k=3)]
    assert order[0] == "q9"  # no judgments at all
    assert "q10" not in order
    # fewest judgments next: q8 has one imported judgment, the others two or three
    assert order[1] == "q8"
    assert set(order) == {f"q{i}" for i in range(1, 10)}


def test_a_started_query_comes_back_first_and_a_finished_one_leaves(small_store):
    grading.grade(small_store, "ann", "q5", "d10", 5)
    assert grading.queue_order(small_store, "ann", k=2)[0].query_id == "q5"
    grading.grade(small_store, "ann", "q5", "d11", 1)
    order = [i.query_id for i in grading.queue_order(small_store, "ann", k=2)]
    assert "q5" not in order
    # nobody else gets q5 as a fresh item once a person finished it (overlap off)
    assert "q5" not in [i.query_id for i in grading.queue_order(small_store, "bob", k=2, overlap_share=0.0)]


def test_overlap_gives_a_finished_query_to_one_second_reviewer(small_store):
    for doc in ("d10", "d11"):
        grading.grade(small_store, "ann", "q5", doc, 3)
    bob = grading.queue_order(small_store, "bob", k=2, overlap_share=1.0)
    assert bob[0] == grading.QueueItem(grading.OVERLAP_QUEUE, "q5")
    assert grading.QueueItem(grading.OVERLAP_QUEUE, "q5") not in grading.queue_order(small_store, "ann", k=2, overlap_share=1.0)
    for doc in ("d10", "d11"):
        grading.grade(small_store, "bob", "q5", doc, 4)
    # two people finished it: no third opinion
    assert "q5" not in [i.query_id for i in grading.queue_order(small_store, "cid", k=2, strategy=grading.Strategy.overlap)]


def test_overlap_share_is_a_stable_hash_sample():
    ids = [f"q{i}" for i in range(2000)]
    share = np.mean([grading.in_overlap_sample(q, 0.2) for q in ids])
    assert 0.17 < share < 0.23
    assert not any(grading.in_overlap_sample(q, 0.0) for q in ids)
    assert all(grading.in_overlap_sample(q, 1.0) for q in ids)


def test_uncertain_strategy_orders_by_the_given_scores(small_store):
    scores = {"q3": 1.5, "q7": 0.9, "q1": 0.1}
    order = [i.query_id for i in grading.queue_order(small_store, "ann", grading.Strategy.uncertain, uncertainty=scores)]
    assert order[:3] == ["q3", "q7", "q1"]


def test_uncertainty_is_high_when_top_scores_are_close(small_store, embedder):
    unsure = grading.uncertainty(small_store, embedder, k=5)
    assert set(unsure) == {f"q{i}" for i in range(1, 9)}
    doc_ids, matrix = corpus_matrix(small_store, embedder)
    texts = dict(zip(grading.gradeable_queries(small_store)["query_id"], grading.gradeable_queries(small_store)["text"], strict=True))
    for qid, value in unsure.items():
        ranking = rank_many(embedder.encode_queries([texts[qid]]), doc_ids, matrix, 5)[0]
        gap = ranking[0][1] - ranking[1][1]
        assert value == pytest.approx(1 - min(gap / grading.GAP_SCALE, 1), abs=1e-5)


class ReversedCrossEncoder:
    """Scores in the opposite order to the bi-encoder: full disagreement."""

    def predict(self, pairs, show_progress_bar=False):
        return np.arange(len(pairs), dtype=float)


def test_uncertainty_adds_cross_encoder_disagreement(small_store, embedder):
    plain = grading.uncertainty(small_store, embedder, k=5)
    with_ce = grading.uncertainty(small_store, embedder, k=5, cross_encoder=ReversedCrossEncoder())
    assert len(plain) == 8 and set(with_ce) == set(plain)
    for qid in plain:
        assert with_ce[qid] == pytest.approx(plain[qid] + 1.0)  # tau = -1 → disagreement 1


def test_two_concurrent_sessions_get_different_queries(small_store, workspace):
    a, b = Store(workspace.db_uri), Store(workspace.db_uri)

    def session(args):
        handle, name = args
        got = []
        for _ in range(4):
            item = grading.next_query(handle, name, k=3, overlap_share=0.0, skip=got)
            got.append(item.query_id if item else None)
        return got

    with ThreadPoolExecutor(2) as pool:
        ann, bob = pool.map(session, [(a, "ann"), (b, "bob")])
    assert None not in ann + bob
    assert not set(ann) & set(bob)
    assert set(ann) | set(bob) == {f"q{i}" for i in range(1, 9)}


def test_a_query_finished_while_the_queue_was_read_is_not_handed_out(small_store, monkeypatch):
    """bob's queue was read before ann finished its first query; bob gets the next one, not a second copy."""
    stale = grading.queue_order(small_store, "bob", k=2, overlap_share=0.0)
    first = stale[0].query_id
    for doc in ("d1", "d2"):
        grading.grade(small_store, "ann", first, doc, 3)
    monkeypatch.setattr(grading, "queue_order", lambda *args, **kwargs: stale)
    item = grading.next_query(small_store, "bob", k=2, overlap_share=0.0)
    assert item is not None and item.query_id == stale[1].query_id
    assert claims.held_by_others(small_store, grading.QUEUE, "ann") == {item.query_id}


def test_release_lets_another_reviewer_take_the_query(small_store):
    item = grading.next_query(small_store, "ann", k=3)
    assert grading.next_query(small_store, "bob", k=3).query_id != item.query_id
    claims.release_all(small_store, grading.QUEUE, "bob")
    grading.release(small_store, "ann", item)
    assert grading.next_query(small_store, "bob", k=3).query_id == item.query_id


def test_candidates_come_from_the_retriever_and_include_a_regrade_target(small_store, embedder):
    hits = grading.candidates(small_store, embedder, "q1", k=3, mode="vector")
    assert len(hits) == 3 and hits["doc_id"].iloc[0] == "d1"
    far = next(d for d in (f"d{i}" for i in range(12, 0, -1)) if d not in set(hits["doc_id"]))
    extended = grading.candidates(small_store, embedder, "q1", k=3, mode="vector", include=[far])
    assert list(extended["doc_id"]) == list(hits["doc_id"]) + [far]
    with pytest.raises(InputError, match="known query id"):
        grading.candidates(small_store, embedder, "nope", k=3)
    with pytest.raises(InputError, match="between 1 and 100"):
        grading.candidates(small_store, embedder, "q1", k=0)


def test_a_segment_queue_offers_only_that_segment_least_judged_first(small_store):
    stamp = now()
    small_store.add("queries", [Query(query_id=q, text=t, split="eval", source="log", created_at=stamp)
                                for q, t in (("L1", "deductible for a specialist?"), ("L2", "copay for x-ray"), ("L3", "what is a referral"))])
    small_store.add("judgments", [Judgment(query_id="L1", doc_id=d, reviewer="import:log", grade=1, created_at=stamp, updated_at=stamp)
                                  for d in ("d1", "d2")] + [Judgment(query_id="L2", doc_id="d3", reviewer="import:log", grade=1,
                                                                     created_at=stamp, updated_at=stamp)])
    order = [i.query_id for i in grading.queue_order(small_store, "ann", grading.Strategy.segment, k=3, segment="source:log")]
    assert order == ["L3", "L2", "L1"]  # no judgments, one, two
    questions = grading.queue_order(small_store, "ann", grading.Strategy.segment, k=3, segment="split:eval,source:log,style:question")
    assert [i.query_id for i in questions] == ["L3", "L1"]
    item = grading.next_query(small_store, "ann", grading.Strategy.segment, k=3, segment=grading.Segment.parse("source:log"))
    assert item.query_id == "L3"
    assert grading.next_query(small_store, "bob", grading.Strategy.segment, k=3, segment="source:log").query_id == "L2"  # L3 is held
    assert "source:log" in grading.segment_options(small_store) and "split:eval,source:small" in grading.segment_options(small_store)
    with pytest.raises(InputError, match="column:value pairs"):
        grading.queue_order(small_store, "ann", segment="colour:red")
    with pytest.raises(InputError, match="expects a segment"):
        grading.queue_order(small_store, "ann", grading.Strategy.segment)


def test_progress_counts_only_the_asked_queries_and_is_empty_without_judgments(store):
    assert list(grading._progress(store, ["q1"]).columns) == ["query_id", "reviewer", "n"]
    stamp = now()
    store.add("judgments", [Judgment(query_id=q, doc_id=f"d{i}", reviewer=r, grade=1, created_at=stamp, updated_at=stamp)
                            for i, (q, r) in enumerate([("q1", "ann"), ("q1", "ann"), ("q1", "bob"), ("q2", "ann")])])
    counts = grading._progress(store, ["q1", "q9"])
    assert sorted(zip(counts["query_id"], counts["reviewer"], counts["n"])) == [("q1", "ann", 2), ("q1", "bob", 1)]
    assert grading._progress(store, ["q9"]).empty


def test_a_query_with_fewer_full_text_candidates_than_k_is_finished_once_all_are_graded(small_store):
    """Full-text search found 6 documents for k = 10: grading those 6 finishes the query for its
    reviewer (it was handed back first in every new session, and graded 207 times over)."""
    from core.search.retrieval import SearchMode
    from core.storage.schemas import Document

    small_store.add("documents", [Document(doc_id=f"z{i}", title=f"Zebra rider plan {i}", text="zebra cover", source="small")
                                  for i in range(6)])
    small_store.ensure_fts_index()
    small_store.add("queries", [Query(query_id="qz", text="zebra", status="approved", created_at=now())])
    found = grading.candidates(small_store, None, "qz", 10, SearchMode.fts)
    assert sorted(found["doc_id"]) == [f"z{i}" for i in range(6)]
    for doc in found["doc_id"][:5]:
        grading.grade(small_store, "ann", "qz", doc, 2)
    assert grading.queue_order(small_store, "ann", k=10, mode=SearchMode.fts)[0].query_id == "qz"  # started: back first
    grading.grade(small_store, "ann", "qz", found["doc_id"].iloc[5], 0)
    assert "qz" not in [i.query_id for i in grading.queue_order(small_store, "ann", k=10, mode=SearchMode.fts)]
    assert grading.next_query(small_store, "ann", k=10, mode=SearchMode.fts).query_id != "qz"
    # finished by a person: nobody else gets it as a fresh query either (overlap off)
    assert "qz" not in [i.query_id for i in grading.queue_order(small_store, "bob", k=10, mode=SearchMode.fts, overlap_share=0.0)]
    # with vector candidates there are 10 to grade: still started there
    assert grading.queue_order(small_store, "ann", k=10, mode=SearchMode.vector)[0].query_id == "qz"
