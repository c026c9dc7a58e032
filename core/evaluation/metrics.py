"""Retrieval metrics on the eval split, computed with pytrec_eval and stored per run and stage.

"Before" and "after" of a run are scored on identical qrels (`labels.graded_qrels` of the eval queries), and the
snapshot hash of those qrels decides which runs may be compared at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import pytrec_eval

from core.errors import InputError
from core.labeling.labels import Qrels
from core.progress import Progress
from core.search.models import Embedder
from core.search.retrieval import Ranking, corpus_matrix, rank_many
from core.storage.operations import operation
from core.storage.schemas import Metric, QueryResult, Split
from core.storage.store import Store

# The metric vocabulary, defined once: names in display order, cut-offs, labels, and the
# summary set that CLI JSON, run cards, the Train page and benches print.
NAMES = ("recall", "precision", "mrr", "ndcg", "map")
KS = (1, 3, 5, 10, 20)
LABELS = {"recall": "Recall", "precision": "Precision", "mrr": "MRR", "ndcg": "nDCG", "map": "MAP"}
ALL = tuple(f"{name}@{k}" for name in NAMES for k in KS)
SUMMARY = ("recall@5", "recall@10", "ndcg@10", "mrr@10", "map@10")
HEADLINE_METRIC = "recall@10"  # what the Results page and the report lead with: "is the right document in the top 10?"
VALIDATION_METRIC = "ndcg@10"  # what is chosen on: early stopping, fusion weights, learning curves, the ladder
DEPTH = 20  # rankings are stored and scored to this depth


def split_query_ids(store: Store, split: Split) -> list[str]:
    """Approved queries of one split, in a stable order."""
    return sorted(store.split_queries(split)["query_id"])


def eval_query_ids(store: Store) -> list[str]:
    """Approved queries of the eval split, in a stable order."""
    return split_query_ids(store, Split.eval)


def snapshot_hash(qrels: Mapping[str, Mapping[str, int]]) -> str:
    """Hash of the sorted eval query ids and their qrels: two runs compare only when equal."""
    canonical = json.dumps({q: dict(sorted(d.items())) for q, d in sorted(qrels.items())}, sort_keys=True)
    return hashlib.sha1(canonical.encode()).hexdigest()[:16]


def judged_queries(qrels: Qrels, relevant_grade: int) -> list[str]:
    """Queries with at least one relevant document: the only ones a metric can be computed on."""
    return sorted(q for q, docs in qrels.items() if any(g >= relevant_grade for g in docs.values()))


def _as_run(rankings: Mapping[str, Ranking], queries: Sequence[str], depth: int) -> dict[str, dict[str, float]]:
    """Scores replaced by rank-derived ones (pytrec_eval re-sorts by score and breaks ties by
    doc id, so this keeps the given order); an empty ranking gets one unjudged doc so the
    query scores 0 instead of being dropped."""
    run = {q: {doc: float(depth - i) for i, (doc, _) in enumerate(rankings.get(q, [])[:depth])} for q in queries}
    return {q: docs or {"__none__": 0.0} for q, docs in run.items()}


def first_relevant_rank(ranking: Ranking, qrels: Mapping[str, int], relevant_grade: int, depth: int = DEPTH) -> int:
    for rank, (doc, _) in enumerate(ranking[:depth], start=1):
        if qrels.get(doc, 0) >= relevant_grade:
            return rank
    return 0


def compute(
    qrels: Qrels, rankings: Mapping[str, Ranking], relevant_grade: int = 1
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query `name@k` for every name in NAMES and k in KS.

    recall/precision/MAP use grade >= relevant_grade as relevant; nDCG uses the graded
    gains; MRR@k is reciprocal rank on the run truncated to k. Queries without a relevant
    document are skipped; a judged query missing from `rankings` scores 0.
    """
    queries = judged_queries(qrels, relevant_grade)
    if not queries:
        return {f"{n}@{k}": 0.0 for n in NAMES for k in KS}, {}
    graded = {q: {d: int(g) for d, g in qrels[q].items()} for q in queries}
    measures = {f"recall.{','.join(map(str, KS))}", f"P.{','.join(map(str, KS))}", f"map_cut.{','.join(map(str, KS))}"}
    binary = pytrec_eval.RelevanceEvaluator(graded, measures, relevance_level=relevant_grade)
    ndcg = pytrec_eval.RelevanceEvaluator(graded, {f"ndcg_cut.{','.join(map(str, KS))}"})
    run = _as_run(rankings, queries, DEPTH)
    scores_b, scores_n = binary.evaluate(run), ndcg.evaluate(run)
    per_query: dict[str, dict[str, float]] = {}
    for q in queries:
        values: dict[str, float] = {}
        for k in KS:
            values[f"recall@{k}"] = scores_b[q][f"recall_{k}"]
            values[f"precision@{k}"] = scores_b[q][f"P_{k}"]
            values[f"map@{k}"] = scores_b[q][f"map_cut_{k}"]
            values[f"ndcg@{k}"] = scores_n[q][f"ndcg_cut_{k}"]
        per_query[q] = values
    for k in KS:
        truncated = pytrec_eval.RelevanceEvaluator(graded, {"recip_rank"}, relevance_level=relevant_grade)
        rr = truncated.evaluate(_as_run(rankings, queries, k))
        for q in queries:
            per_query[q][f"mrr@{k}"] = rr[q]["recip_rank"]
    names = [f"{n}@{k}" for n in NAMES for k in KS]
    means = {name: sum(v[name] for v in per_query.values()) / len(per_query) for name in names}
    return means, per_query


def rank_with_model(store: Store, embedder: Embedder, query_ids: Sequence[str], depth: int = DEPTH,
                    progress: Progress | None = None) -> dict[str, Ranking]:
    """Top-`depth` documents per query by exact cosine search over the cached corpus embeddings
    (`progress(done, total)` hears about documents embedded, when any need it)."""
    if not query_ids:
        return {}
    texts = store.query_texts(query_ids)
    ids = [q for q in query_ids if q in texts]
    doc_ids, matrix = corpus_matrix(store, embedder, progress)
    if not doc_ids:
        raise InputError("evaluation expects documents in the workspace, but got none. Import documents first.")
    vectors = embedder.encode_queries([texts[q] for q in ids])
    return dict(zip(ids, rank_many(vectors, doc_ids, matrix, depth)))


def save_stage(
    store: Store,
    run_id: str,
    stage: str,
    qrels: Qrels,
    rankings: Mapping[str, Ranking],
    relevant_grade: int,
) -> dict[str, float]:
    """Score `rankings` and store the metrics and per-query rows of one stage (all or nothing)."""
    means, per_query = compute(qrels, rankings, relevant_grade)
    metrics = [Metric(run_id=run_id, stage=stage, name=name.split("@")[0], k=int(name.split("@")[1]), value=float(v)) for name, v in means.items()]
    rows = [
        QueryResult(
            run_id=run_id,
            stage=stage,
            query_id=q,
            first_relevant_rank=first_relevant_rank(rankings.get(q, []), qrels[q], relevant_grade),
            values=json.dumps(values),
            ranking=json.dumps([[d, round(float(s), 6)] for d, s in rankings.get(q, [])[:DEPTH]]),
        )
        for q, values in per_query.items()
    ]
    where = {"run_id": run_id, "stage": stage}
    with operation(store) as op:
        op.delete("metrics", where)
        op.delete("query_results", where)
        op.add("metrics", metrics)
        op.add("query_results", rows)
    return means


def summary(means: Mapping[str, float], names: Sequence[str] = SUMMARY) -> dict[str, float]:
    """A few metrics, rounded for printing (the Results page's *headline* is one metric with its CI)."""
    return {name: round(float(means[name]), 4) for name in names if name in means}


def stage_metrics(store: Store, run_id: str) -> dict[str, dict[str, float]]:
    """Stored metrics of one run: {stage: {"recall@10": …}}."""
    rows = store.read("metrics", where={"run_id": run_id}, columns=["stage", "name", "k", "value"])
    out: dict[str, dict[str, float]] = {}
    for stage, name, k, value in zip(rows["stage"], rows["name"], rows["k"], rows["value"]):
        out.setdefault(stage, {})[f"{name}@{int(k)}"] = float(value)
    return out
