"""Metrics against hand-computed values on a tiny fixed ranking; eval qrels aggregation; stored rows."""

from __future__ import annotations

import json
import math

import pytest

from core.evaluation import metrics
from core.labeling import labels
from core.storage.schemas import Judgment, Query, now

QRELS = {"q1": {"a": 3, "b": 1, "c": 0}, "q2": {"d": 2}}
RUN = {"q1": [("x", 0.9), ("a", 0.8), ("c", 0.7), ("b", 0.6)], "q2": [("y", 0.5), ("z", 0.4)]}


def test_metrics_equal_hand_computed_values():
    means, per_query = metrics.compute(QRELS, RUN, relevant_grade=1)
    q1 = per_query["q1"]
    assert q1["recall@1"] == 0 and q1["recall@3"] == pytest.approx(0.5) and q1["recall@5"] == pytest.approx(1.0)
    assert q1["precision@3"] == pytest.approx(1 / 3) and q1["precision@5"] == pytest.approx(2 / 5)
    assert q1["mrr@1"] == 0 and q1["mrr@3"] == pytest.approx(0.5) and q1["mrr@20"] == pytest.approx(0.5)
    # Graded nDCG with trec_eval's linear gains: relevant a (3) at rank 2, b (1) at rank 4.
    idcg = 3 + 1 / math.log2(3)
    assert q1["ndcg@3"] == pytest.approx((3 / math.log2(3)) / idcg, abs=1e-4)
    assert q1["ndcg@5"] == pytest.approx((3 / math.log2(3) + 1 / math.log2(5)) / idcg, abs=1e-4)
    assert q1["map@3"] == pytest.approx(0.25) and q1["map@5"] == pytest.approx(0.5)
    assert all(value == 0 for value in per_query["q2"].values())
    assert means["recall@5"] == pytest.approx(0.5) and means["map@5"] == pytest.approx(0.25)
    assert set(means) == {f"{n}@{k}" for n in metrics.NAMES for k in metrics.KS}


def test_order_is_kept_on_ties_and_missing_rankings_score_zero():
    tied = {"q1": [("b", 1.0), ("a", 1.0)]}
    _, per_query = metrics.compute({"q1": {"a": 1}, "q2": {"d": 1}}, tied)
    assert per_query["q1"]["mrr@10"] == pytest.approx(0.5)  # a stays second although ids sort first
    assert per_query["q2"]["recall@20"] == 0


def test_relevant_grade_changes_binary_metrics_only():
    strict, _ = metrics.compute(QRELS, RUN, relevant_grade=2)
    loose, _ = metrics.compute(QRELS, RUN, relevant_grade=1)
    assert strict["recall@3"] == pytest.approx(0.5) and loose["recall@3"] == pytest.approx(0.25)
    assert strict["ndcg@5"] == pytest.approx(loose["ndcg@5"])


def test_graded_qrels_median_half_up_and_synthetic_fallback(store):
    stamp = now()
    store.add("queries", [Query(query_id="q1", text="a", split="eval", created_at=stamp),
                          Query(query_id="q2", text="b", split="eval", origin="synthetic", source_doc_id="d9", created_at=stamp)])
    grades = [("ann", "d1", 2, False), ("bob", "d1", 3, False), ("ann", "d2", 1, False), ("bob", "d2", 2, False), ("cy", "d2", 4, False),
              ("ann", "d3", 0, True)]
    store.add("judgments", [Judgment(query_id="q1", doc_id=d, reviewer=r, grade=g, hard_negative=h, created_at=stamp, updated_at=stamp)
                            for r, d, g, h in grades])
    qrels = labels.graded_qrels(store, ["q1", "q2"])
    assert qrels == {"q1": {"d1": 3, "d2": 2, "d3": 0}, "q2": {"d9": 5}}
    assert metrics.snapshot_hash(qrels) == metrics.snapshot_hash(dict(reversed(qrels.items())))
    assert metrics.snapshot_hash(qrels) != metrics.snapshot_hash({"q1": {"d1": 3}})


def test_save_stage_writes_metrics_and_query_rows(small_store):
    ids = metrics.eval_query_ids(small_store)
    qrels = labels.graded_qrels(small_store, ids)
    rankings = {q: [("d1", 0.9)] + [(d, 0.5) for d in sorted(qrels[q]) if d != "d1"] for q in ids}
    means = metrics.save_stage(small_store, "r1", "before", qrels, rankings, 1)
    again = metrics.save_stage(small_store, "r1", "before", qrels, rankings, 1)  # replaces, never duplicates
    assert means == again
    assert small_store.count("metrics", "run_id = 'r1'") == 25
    rows = small_store.read("query_results", where="run_id = 'r1'")
    assert sorted(rows["query_id"]) == ids
    q6 = rows[rows["query_id"] == "q6"].iloc[0]  # d1 is graded 0 for q6, d3 (grade 5) comes second
    assert q6["first_relevant_rank"] == 2 and json.loads(q6["ranking"])[0][0] == "d1"
    assert set(json.loads(q6["values"])) == set(means)
    assert metrics.stage_metrics(small_store, "r1")["before"]["recall@20"] == pytest.approx(1.0)
