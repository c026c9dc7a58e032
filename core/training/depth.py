"""Breadth or depth: is a judgment worth more on a new query or on a query already judged?

The curve by judgments keeps every train query and a seeded share of each query's judged
documents (nested per seed, and always one of its positives where it has one: a query with no
positive trains nothing). Set beside the curve by queries (a share of the queries, each with all
its judgments), both are read against the judged pairs trained on, so at equal judgment counts
one says which kind of grading bought more on this data, or that the difference is within the
spread between seeds.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from core.training.data import TrainingData

BREADTH = "more queries judged shallowly"
DEPTH = "fewer queries judged deeply"


def judgment_count(data: TrainingData) -> int:
    """Judged (query, doc) pairs behind the train queries (graded documents, whatever their grade)."""
    return sum(len(data.grades.get(q, {})) for q in data.positives)


def kept_judgments(query_id: str, judged: list[str], positives: set[str], fraction: float, seed: int) -> list[str]:
    """A seeded share of one query's judged documents; for one seed, each fraction contains the smaller ones,
    and a positive (the first in the shuffled order) always comes first."""
    order = sorted(judged)
    random.Random(f"{seed}:{query_id}").shuffle(order)
    first = next((d for d in order if d in positives), None)
    if first is not None:
        order.remove(first)
        order.insert(0, first)
    return order[: max(1, int(round(fraction * len(order))))] if order else []


def thin_judgments(data: TrainingData, fraction: float, seed: int) -> TrainingData:
    """The same train queries with only a share of each one's judgments; mined negatives (no judgment) stay."""
    positives, negatives, grades, sources = {}, {}, {}, {}
    for q, pos in data.positives.items():
        graded = data.grades.get(q, {})
        kept = set(kept_judgments(q, list(graded), set(pos), fraction, seed))
        positives[q] = [d for d in pos if d in kept or d not in graded]  # a source document is no judgment: it stays
        negatives[q] = [d for d in data.negatives.get(q, []) if d in kept or data.negative_source.get((q, d)) == "mined"]
        sources.update({(q, d): data.negative_source[(q, d)] for d in negatives[q] if (q, d) in data.negative_source})
        grades[q] = {d: g for d, g in graded.items() if d in kept}
    return replace(data, positives=positives, negatives=negatives, negative_source=sources, grades=grades, warnings=[])


def _spread(point: dict) -> float:
    return float(point.get("seed_std") or 0.0)


def compare(by_queries: list[dict], by_judgments: list[dict], metric_label: str) -> dict:
    """Both curves at equal judgment counts: the by-queries curve is interpolated at each smaller point of the
    curve by judgments (inside the range it measured). Points: train_judgments, value, seed_std (as summarize gives).

    The difference (queries − judgments, averaged over the compared counts) counts only when it is larger
    than the seed spread of a difference, sqrt(sd_q² + sd_j²), averaged the same way.
    """
    queries = sorted((p for p in by_queries if p.get("train_judgments")), key=lambda p: p["train_judgments"])
    judged = sorted((p for p in by_judgments if p.get("train_judgments")), key=lambda p: p["train_judgments"])
    top = max((p["train_judgments"] for p in judged), default=0)
    x = np.array([p["train_judgments"] for p in queries], dtype=float)
    rows = []
    for p in judged:
        if p["train_judgments"] >= top or len(x) < 2 or not x[0] <= p["train_judgments"] <= x[-1]:
            continue  # today's labels are the same point on both curves; outside the measured range nothing is compared
        at = float(p["train_judgments"])
        value = float(np.interp(at, x, [q["value"] for q in queries]))
        spread = float(np.interp(at, x, [_spread(q) for q in queries]))
        rows.append({"train_judgments": int(at), "by_queries": round(value, 4), "by_judgments": p["value"],
                     "difference": round(value - p["value"], 4), "seed_spread": round(float(np.hypot(spread, _spread(p))), 4)})
    result = {"compared": rows, "difference": None, "seed_spread": None, "winner": None}
    if not queries:
        result["sentence"] = ("The curve by queries has no judgment counts (it was measured before they were stored), so the curves "
                              "cannot be compared; measure it again (flywheel curve --force).")
        return result
    if not rows:
        result["sentence"] = ("The two curves share no judgment count below today's, so they cannot be compared yet; "
                              "add smaller fractions (e.g. --fractions 0.25,0.5,0.75,1.0).")
        return result
    difference = float(np.mean([r["difference"] for r in rows]))
    spread = float(np.mean([r["seed_spread"] for r in rows]))
    counts = f"{rows[0]['train_judgments']}–{rows[-1]['train_judgments']}" if len(rows) > 1 else str(rows[0]["train_judgments"])
    result.update(difference=round(difference, 4), seed_spread=round(spread, 4))
    if abs(difference) <= spread:
        result["sentence"] = (f"At equal judgment counts ({counts}), {BREADTH} and {DEPTH} give the same {metric_label} within noise "
                              f"(difference {difference:+.3f}, seed spread {spread:.3f}) on this data.")
        return result
    winner, other = (DEPTH, BREADTH) if difference > 0 else (BREADTH, DEPTH)
    result["winner"] = "queries" if difference > 0 else "judgments"
    result["sentence"] = (f"On this data {winner} buys more {metric_label} per judgment than {other}: "
                          f"{abs(difference):.3f} higher on average at {counts} judgments, more than the seed spread ({spread:.3f}).")
    return result
