"""A run's metric over every query in scope, from a judge's grades everywhere and people's on the
audit sample (core.evaluation.ppi), beside people's audit sample alone.

The run is served as it shipped (its pipeline.json), so every query in scope is ranked, not only
the judged ones; the judge grades each ranking's top k; people's grades come from the audit
sample (core.labeling.audit), the only random sample of them (grades accepted from a suggestion
count there, and their number is reported). A query with no relevant document
counts 0, under people's grades and the judge's alike, so the mean is over every query in scope.
Against another run (or the base model), the per-query differences are estimated the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.evaluation import metrics, ppi
from core.evaluation.judges import Judge, judge_qrels, per_query, qrels_of, reference
from core.labeling import audit
from core.search.models import Embedder
from core.storage.schemas import RunStatus
from core.storage.store import Store
from core.training.pipeline import PIPELINE_FILE, load_pipeline

BASE = "base"  # --against base: the bundled model's dense ranking, what every run starts from
Rankings = dict[str, list[tuple[str, float]]]


def run_rankings(store: Store, run_id: str, query_ids: list[str]) -> Rankings:
    """The run's shipped pipeline's top DEPTH for each query (BASE: the base model, dense)."""
    if run_id == BASE:
        return metrics.rank_with_model(store, Embedder(None), query_ids)
    rows = store.read("runs", where={"run_id": run_id}, columns=["status", "model_path"])
    if rows.empty or rows["status"].iloc[0] != RunStatus.succeeded.value:
        raise InputError(f"an estimate expects a succeeded run, but there is no succeeded run '{run_id}'; list runs with `flywheel runs`")
    pipeline = load_pipeline(Path(rows["model_path"].iloc[0]).parent, store)
    return pipeline.rank(store.query_texts(query_ids), metrics.DEPTH)


def shipped_runs(store: Store) -> list[str]:
    """Succeeded runs that saved a pipeline (the ones an estimate can serve), newest first."""
    rows = store.read("runs", where={"status": RunStatus.succeeded}, columns=["run_id", "model_path", "finished_at"])
    rows = rows.sort_values("finished_at", ascending=False)
    return [r for r, path in zip(rows["run_id"], rows["model_path"]) if path and (Path(path).parent / PIPELINE_FILE).exists()]


def check_metric(metric: str) -> str:
    if metric not in metrics.ALL:
        raise InputError(f"an estimate expects a metric such as ndcg@10 or recall@10 (one of {', '.join(metrics.ALL)}), but got '{metric}'")
    return metric


def values(store: Store, judge: Judge, ranked: list[Rankings], queries: list[str], labeled: list[str], *, metric: str,
           include_imports: bool = False, relevant_grade: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-query `metric` of ranked[0] (minus ranked[1]'s, when given): people's on `labeled`, the
    judge's on `labeled` (its pool there includes people's documents) and on the other queries,
    and how many of people's grades were accepted from a suggestion."""
    labels, accepted = reference(store, include_imports, labeled, keep_accepted=True)
    people = qrels_of(labels)
    tops = dict(zip(labels["query_id"], labels["top"]))
    rest = [q for q in queries if q not in set(labeled)]
    graded = judge_qrels(judge, ranked, queries, int(metric.split("@")[1]), {q: people.get(q, {}) for q in labeled}, tops)

    def of(qrels, ids: list[str]) -> np.ndarray:
        out = per_query(qrels, ranked[0], ids, metric, relevant_grade)
        return out - per_query(qrels, ranked[1], ids, metric, relevant_grade) if len(ranked) > 1 else out

    return of(people, labeled), of(graded, labeled), of(graded, rest), accepted


def estimate(store: Store, run_id: str, judge: Judge, *, metric: str = metrics.VALIDATION_METRIC, scope: str = "eval",
             against: str = "", include_imports: bool = False, audit_size: int = 0, relevant_grade: int = 1) -> dict[str, Any]:
    """The PPI++ and classical estimates of `metric` (or its change against `against`) as JSON-ready values."""
    check_metric(metric)
    in_scope = audit.scope_queries(store, scope)
    queries = judge.allowed(in_scope)
    state = audit.audit(store, scope, include_imports=include_imports)
    allowed = set(queries)
    sample = [q for q in state.sample if q in allowed][: audit_size or None]
    if len(sample) < ppi.MIN_AUDIT:
        raise InputError(f"an estimate expects at least {ppi.MIN_AUDIT} audit queries graded in full, but got {len(sample)} "
                         f"({state.progress_line()}); grade the audit queue on the Grade page")
    ranked = [run_rankings(store, run_id, queries)] + ([run_rankings(store, against, queries)] if against else [])
    human, judged, rest, accepted = values(store, judge, ranked, queries, sample, metric=metric, include_imports=include_imports,
                                           relevant_grade=relevant_grade)
    found = ppi.estimate(human, judged, rest)
    return {"metric": metric, "judge": judge.name, "run": run_id, "against": against or None, "scope": scope,
            "audit_queries": found.audit_queries, "queries": found.queries, **{k: v for k, v in found.as_dict().items() if k in
            ("ppi", "classical", "effective_queries", "correlation", "threshold", "used_ppi", "note")},
            "held_out": judge.held_out, "left_out_of_scope": len(in_scope) - len(queries), "accepted_suggestions_in_audit": accepted}
