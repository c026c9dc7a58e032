"""Every label rule, once: how many reviewers' judgments become one label per (query,
document), and which labels are training positives and negatives.

Used by export, evaluation, mining and training so they can never disagree on what a label is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from core.storage.schemas import QueryOrigin, QueryStatus
from core.storage.store import Store, sql_in, sql_str

POSITIVE_GRADE = 3  # training positives: grade >= 3 of 5 (relevant … exactly answers)
NEGATIVE_GRADE = 1  # training negatives: grade <= 1 (irrelevant or marginal), see negative_ceiling
Qrels = dict[str, dict[str, int]]  # query -> doc -> grade

GRADE_MEANINGS = {
    0: "irrelevant",
    1: "marginal: mentions the topic, not useful",
    2: "partially relevant",
    3: "relevant",
    4: "highly relevant",
    5: "exactly answers",
}


def negative_ceiling(relevant_grade: int) -> int:
    """The highest grade that is a training negative: marginal (1), but never a grade the eval
    counts as relevant, so with TREC's default (1 is relevant) only 0 is a negative."""
    return min(NEGATIVE_GRADE, relevant_grade - 1)


def negative_mask(labels: pd.DataFrame, positive_grade: int = POSITIVE_GRADE, relevant_grade: int = 1) -> pd.Series:
    """Which labels are training negatives: flagged hard negatives not graded as positives, and
    grades at or below negative_ceiling. Export and training both use this rule."""
    return (labels["hard_negative"] & (labels["grade"] < positive_grade)) | (labels["grade"] <= negative_ceiling(relevant_grade))


def negative_rule(positive_grade: int = POSITIVE_GRADE, relevant_grade: int = 1) -> str:
    """The negative rule in words, for messages and run cards."""
    return f"grade <= {negative_ceiling(relevant_grade)}, or flagged as a hard negative and graded below {positive_grade}"


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


def graded_qrels(store: Store, query_ids: Sequence[str]) -> Qrels:
    """Per (query, doc): the median grade over all its judgments, rounded half up.

    Every reviewer counts, imported qrels included. A hard-negative flag never makes a document
    relevant (its grade decides). An approved synthetic query with no judgments at all falls
    back to its source document at grade 5: approving the query says that document answers it.
    """
    if not query_ids:
        return {}
    qrels: Qrels = {}
    for start in range(0, len(query_ids), 500):
        labels = consensus_labels(store, list(query_ids[start : start + 500]))
        for qid, did, grade in zip(labels["query_id"], labels["doc_id"], labels["grade"]):
            qrels.setdefault(qid, {})[did] = int(grade)
    missing = [q for q in query_ids if q not in qrels]
    if missing:
        rows = store.read(
            "queries",
            where=f"{sql_in('query_id', missing)} AND origin = {sql_str(QueryOrigin.synthetic.value)}",
            columns=["query_id", "source_doc_id", "status"],
        )
        for qid, did, status in zip(rows["query_id"], rows["source_doc_id"], rows["status"]):
            if did and status == QueryStatus.approved.value:
                qrels[qid] = {did: 5}
    return qrels
