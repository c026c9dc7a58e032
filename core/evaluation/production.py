"""Production retrieval scored like a run: the rankings kept in the interaction logs, on the
eval queries that were logged, beside the run's base model (before) and the run itself.

All three rows are computed here with metrics.compute on the same current qrels and the same
queries, so they compare like for like (a run's stored means may use an older eval snapshot).
"""

from __future__ import annotations

import pandas as pd

from core.evaluation import metrics
from core.evaluation.results import BEFORE, RunData
from core.labeling.labels import graded_qrels
from core.labeling.logs import logged_rankings
from core.storage.store import Store

COLUMNS = ["system", "queries", "value"]


def compare(store: Store, data: RunData, metric: str, stage: str, relevant_grade: int = 1) -> pd.DataFrame:
    """Rows production (logged), base model (before) and this run (`stage`) on `metric`,
    over the run's eval queries that have a logged ranking; empty when none has."""
    queries = data.queries
    eval_ids = sorted(set(queries[queries["stage"] == BEFORE]["query_id"]))
    production = logged_rankings(store, eval_ids)
    if not production:
        return pd.DataFrame(columns=COLUMNS)
    qrels = graded_qrels(store, sorted(production))
    stored = {(s, q): [(d, float(score)) for d, score in r] for s, q, r in zip(queries["stage"], queries["query_id"], queries["ranking"])}
    rows = []
    for system, rankings in (("production (logged)", production),
                             (f"base model ({BEFORE})", {q: stored.get((BEFORE, q), []) for q in production}),
                             (f"run {data.run_id} ({stage})", {q: stored.get((stage, q), []) for q in production})):
        means, per_query = metrics.compute(qrels, rankings, relevant_grade)
        rows.append({"system": system, "queries": len(per_query), "value": means[metric] if per_query else None})
    return pd.DataFrame(rows, columns=COLUMNS)
