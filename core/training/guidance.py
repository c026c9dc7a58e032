"""What to label next, measured on the team's own data (beside the learning curve's projection).

Two measured answers: which eval-set segments (by source, origin and query style) rest on the
fewest judged queries and have the widest confidence intervals, and how many eval queries would
shrink the interval of the change (base model → today's curve point) to a chosen width. Widths
shrink as 1/sqrt(n), so the count is n · (width / target)².
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.evaluation.stats import bootstrap_ci
from core.labeling.grading import Segment
from core.labeling.text import query_style
from core.storage.store import Store

__all__ = ["query_style", "segments", "eval_queries_for_width"]
Z = 1.96  # 95% normal interval, for segment widths


def _today(points: pd.DataFrame, metric: str) -> tuple[dict[str, float], dict[str, float]]:
    """Per eval query: the base model's value and today's (the mean over seeds of the 100% points)."""
    base = points[points["fraction"] == 0]["per_query"].iloc[0]
    full = points[points["fraction"] == points["fraction"].max()]["per_query"].tolist()
    today = {q: float(np.mean([pq[q][metric] for pq in full])) for q in base}
    return {q: v[metric] for q, v in base.items()}, today


def segments(store: Store, points: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per segment of the eval set: queries, judgments per query, today's mean and its 95% CI width, and
    the Grade queue of that segment's eval queries (`queue_segment`, a grading.Segment spec).

    Widest interval first; only segmentations with more than one value are kept.
    """
    _, today = _today(points, metric)
    ids = sorted(today)
    queries = store.read("queries", where={"query_id": ids}, columns=["query_id", "text", "source", "origin"])
    judged = store.read("judgments", where={"query_id": ids}, columns=["query_id", "doc_id"]).drop_duplicates()
    per_query = judged.groupby("query_id").size()
    queries = queries.assign(style=[query_style(t) for t in queries["text"]], value=[today[q] for q in queries["query_id"]],
                             judgments=[int(per_query.get(q, 0)) for q in queries["query_id"]])
    rows = []
    for column in ("source", "origin", "style"):
        if queries[column].nunique() < 2:
            continue
        for value, group in queries.groupby(column):
            n = len(group)
            width = 2 * Z * float(group["value"].std(ddof=1)) / math.sqrt(n) if n > 1 else float("inf")
            least = group.sort_values(["judgments", "query_id"])["query_id"].iloc[0]
            rows.append({"segment": f"{column}: {value or '(none)'}", "eval_queries": n, "judgments_per_query": round(float(group["judgments"].mean()), 1),
                         metric: round(float(group["value"].mean()), 4), "ci_width": round(width, 4), "least_judged_query": least,
                         "queue_segment": str(Segment((("split", "eval"), (column, str(value or "")))))})
    frame = pd.DataFrame(rows, columns=["segment", "eval_queries", "judgments_per_query", metric, "ci_width", "least_judged_query",
                                        "queue_segment"])
    return frame.sort_values(["ci_width", "eval_queries"], ascending=[False, True]).reset_index(drop=True)


def eval_queries_for_width(points: pd.DataFrame, metric: str, target_width: float | None = None) -> dict:
    """Today's 95% CI of the change (base → today's labels) and how many eval queries would make it `target_width` wide.

    With no target, half of today's width (four times the eval queries).
    """
    base, today = _today(points, metric)
    ids = sorted(base)
    low, high = bootstrap_ci([base[q] for q in ids], [today[q] for q in ids])
    width = high - low
    target = target_width if target_width else width / 2
    needed = math.ceil(len(ids) * (width / target) ** 2) if target > 0 and width > 0 else len(ids)
    return {"eval_queries": len(ids), "change": round(float(np.mean([today[q] - base[q] for q in ids])), 4), "ci_low": round(low, 4),
            "ci_high": round(high, 4), "ci_width": round(width, 4), "target_width": round(target, 4),
            "eval_queries_needed": max(needed, len(ids)), "more_eval_queries": max(needed - len(ids), 0)}
