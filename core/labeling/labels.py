"""One place that turns many reviewers' judgments into one label per (query, document).

Used by export, evaluation and training so they can never disagree on what a label is.
"""

from __future__ import annotations

import math

import pandas as pd

from core.storage.store import Store, sql_in

POSITIVE_GRADE = 3  # training positives: grade >= 3 of 5 (relevant … exactly answers)
NEGATIVE_GRADE = 1  # training negatives: grade <= 1 (irrelevant or marginal)

GRADE_MEANINGS = {
    0: "irrelevant",
    1: "marginal: mentions the topic, not useful",
    2: "partially relevant",
    3: "relevant",
    4: "highly relevant",
    5: "exactly answers",
}


def negative_mask(labels: pd.DataFrame, relevant_grade: int = 1) -> pd.Series:
    """Which labels are training negatives: flagged hard negatives not graded as positives, and
    low grades (<= 1) that the eval does not count as relevant (the same rule as training)."""
    low = min(NEGATIVE_GRADE, relevant_grade - 1)
    return (labels["hard_negative"] & (labels["grade"] < POSITIVE_GRADE)) | (labels["grade"] <= low)


def round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def consensus(judgments: pd.DataFrame) -> pd.DataFrame:
    """Per (query_id, doc_id): the median grade over reviewers (rounded half up), whether any
    reviewer flagged it a hard negative, and how many reviewers graded it."""
    columns = ["query_id", "doc_id", "grade", "hard_negative", "reviewers"]
    if judgments.empty:
        return pd.DataFrame(columns=columns)
    grouped = judgments.groupby(["query_id", "doc_id"], sort=True)
    out = grouped.agg(grade=("grade", "median"), hard_negative=("hard_negative", "any"), reviewers=("reviewer", "nunique"))
    out["grade"] = out["grade"].map(round_half_up).astype(int)
    return out.reset_index()[columns]


def consensus_labels(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    where = sql_in("query_id", query_ids) if query_ids is not None else None
    judgments = store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative"])
    return consensus(judgments)
