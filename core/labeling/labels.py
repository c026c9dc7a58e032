"""Every label rule, once: how many reviewers' judgments become one label per (query,
document), and which labels are training positives and negatives.

Used by export, evaluation, mining and training so they can never disagree on what a label is.

Relevance scales. Each import records the top grade its qrels use (core.storage.imports): 1 for
binary qrels, 2 or 3 for TREC's 0–2 / 0–3, 5 for Flywheel's own 0–5. A query judged by an
import lives on that import's scale; any other query on 0–5. By default a positive is a grade
in the top band of its query's scale (Scale.positive: binary 1, 0–2 >= 1, 0–3 >= 2, 0–5 >= 3).

Merging reviewers with an import. Reviewers always grade 0–5 and their rows are stored as they
gave them; imported rows are stored as imported. Only when labels are read does a reviewer's
grade on an imported query move onto the query's scale, band for band (Scale.from_flywheel:
0–2 stay below the positive band, 3–5 land in it), and then the median over everyone is taken.
So neither side's stored grades change, and a binary query stays binary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from core.storage.filters import StartsWith
from core.storage.schemas import FLYWHEEL_TOP, IMPORT_REVIEWER, QueryOrigin, QueryStatus
from core.storage.store import Store

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


SCALE_NAMES = {1: "binary 0/1", 2: "TREC 0–2", 3: "TREC 0–3", FLYWHEEL_TOP: "Flywheel 0–5"}


def round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


@dataclass(frozen=True)
class Scale:
    """A relevance scale 0..top; its top band (grade >= positive) holds the training positives."""

    top: int = FLYWHEEL_TOP

    @property
    def name(self) -> str:
        return SCALE_NAMES.get(self.top, f"0–{self.top}")

    @property
    def positive(self) -> int:
        """The top band's lowest grade: the upper half of the scale (binary 1, 0–3 2, 0–5 3)."""
        return (self.top + 1) // 2

    def from_flywheel(self, grade: int) -> int:
        """A reviewer's 0–5 grade on this scale, band for band: 0–2 below the positive band, 3–5 in it."""
        if self.top == FLYWHEEL_TOP:
            return int(grade)
        if grade < POSITIVE_GRADE:
            return round_half_up(grade / (POSITIVE_GRADE - 1) * (self.positive - 1))
        return self.positive + round_half_up((grade - POSITIVE_GRADE) / (FLYWHEEL_TOP - POSITIVE_GRADE) * (self.top - self.positive))


FLYWHEEL = Scale()


def detect_scale(grades: Iterable[int]) -> Scale:
    """The scale grades show: their highest grade (at least 1, at most 5)."""
    return Scale(max(1, min(FLYWHEEL_TOP, max(grades, default=FLYWHEEL_TOP))))


def source_scales(store: Store) -> dict[str, Scale]:
    """Each import's scale, as recorded when it was imported (imports made before scales were
    recorded have no row and read as 0–5, as they always did)."""
    rows = store.read("sources", columns=["source", "top_grade"])
    return {s: Scale(int(t)) for s, t in zip(rows["source"], rows["top_grade"])}


def reviewer_scale(reviewer: str, scales: Mapping[str, Scale]) -> Scale | None:
    """The scale an imported judgment was given on; None for a reviewer (who grades 0–5)."""
    if not reviewer.startswith(IMPORT_REVIEWER):
        return None
    return scales.get(reviewer[len(IMPORT_REVIEWER):], FLYWHEEL)


def query_scale(store: Store, query_id: str) -> Scale:
    """The scale a query's labels live on: its import's, or 0–5 when no import judged it."""
    rows = store.read("judgments", where={"query_id": query_id, "reviewer": StartsWith(IMPORT_REVIEWER)}, columns=["reviewer"])
    scales = source_scales(store) if len(rows) else {}
    return max((reviewer_scale(r, scales) or FLYWHEEL for r in set(rows["reviewer"])), key=lambda s: s.top, default=FLYWHEEL)


def scale_note(scale: Scale) -> str:
    """For the Grade page: how a reviewer's 0–5 grade reads on a query imported on another scale."""
    if scale.top == FLYWHEEL_TOP:
        return ""
    spans: dict[int, list[int]] = {}
    for grade in range(FLYWHEEL_TOP + 1):
        spans.setdefault(scale.from_flywheel(grade), []).append(grade)
    bands = ", ".join(f"{g[0]}–{g[-1]} → {v}" if len(g) > 1 else f"{g[0]} → {v}" for v, g in spans.items())
    return (f"This query's imported grades are {scale.name} (positive: >= {scale.positive}). Grade 0–5 as usual: "
            f"your grade is read on its scale as {bands}; stored as you give it.")


def positive_threshold(scale: Scale, positive_grade: int = 0) -> int:
    """The grade from which a label is a positive: `positive_grade`, or 0 for the scale's top band."""
    return positive_grade or scale.positive


def positive_rule(positive_grade: int = 0, scales: Iterable[Scale] = (FLYWHEEL,)) -> str:
    """The positive rule in words, for the run's saved config, the Train page and messages."""
    if positive_grade:
        return f"grade >= {positive_grade} (set for this run)"
    bands = ", ".join(f">= {s.positive} on {s.name}" for s in sorted(set(scales), key=lambda s: s.top))
    return f"top band of each query's scale: grade {bands or f'>= {FLYWHEEL.positive} on {FLYWHEEL.name}'}"


def positive_mask(labels: pd.DataFrame, positive_grade: int = 0) -> pd.Series:
    """Which consensus labels are positives: grade >= positive_grade, or by default in the top band
    of the row's scale (consensus's `top` column)."""
    if positive_grade:
        return labels["grade"] >= positive_grade
    return labels["grade"] >= labels["top"].map(lambda top: Scale(int(top)).positive)


def relevant_documents(grades: Mapping[str, int], relevant_grade: int = 1) -> list[str]:
    """The documents the eval counts as relevant to a query: grade >= relevant_grade
    (Settings.relevant_grade; TREC's 1 by default). Validation asks the same, so early stopping
    watches what the eval will measure."""
    return [d for d, g in grades.items() if g >= relevant_grade]


def negative_ceiling(relevant_grade: int) -> int:
    """The highest grade that is a training negative: marginal (1), but never a grade the eval
    counts as relevant, so with TREC's default (1 is relevant) only 0 is a negative."""
    return min(NEGATIVE_GRADE, relevant_grade - 1)


def negative_mask(labels: pd.DataFrame, positive_grade: int = 0, relevant_grade: int = 1) -> pd.Series:
    """Which labels are training negatives: flagged hard negatives not positives, and grades at
    or below negative_ceiling. Export and training both use this rule."""
    return (labels["hard_negative"] & ~positive_mask(labels, positive_grade)) | (labels["grade"] <= negative_ceiling(relevant_grade))


def negative_rule(positive_grade: int = 0, relevant_grade: int = 1) -> str:
    """The negative rule in words, for messages and run cards."""
    below = f"graded below {positive_grade}" if positive_grade else "not in its scale's top band"
    return f"grade <= {negative_ceiling(relevant_grade)}, or flagged as a hard negative and {below}"


def consensus(judgments: pd.DataFrame, scales: Mapping[str, Scale] | None = None) -> pd.DataFrame:
    """Per (query_id, doc_id): the median grade over reviewers (rounded half up) on the query's
    scale (`top`; see the module docstring), whether any reviewer flagged it a hard negative, and
    how many reviewers graded it. `scales`: source_scales(); None reads every grade as 0–5."""
    columns = ["query_id", "doc_id", "grade", "hard_negative", "reviewers", "top"]
    if judgments.empty:
        return pd.DataFrame(columns=columns)
    judgments = judgments.copy()
    imported_top = [s.top if s else 0 for s in (reviewer_scale(r, scales or {}) for r in judgments["reviewer"])]
    judgments["top"] = judgments.assign(imported_top=imported_top).groupby("query_id")["imported_top"].transform("max").replace(0, FLYWHEEL_TOP)
    human = (pd.Series(imported_top, index=judgments.index) == 0) & (judgments["top"] != FLYWHEEL_TOP)
    if human.any():
        judgments.loc[human, "grade"] = [Scale(t).from_flywheel(g) for t, g in zip(judgments.loc[human, "top"], judgments.loc[human, "grade"])]
    grouped = judgments.groupby(["query_id", "doc_id"], sort=True)
    out = grouped.agg(grade=("grade", "median"), hard_negative=("hard_negative", "any"), reviewers=("reviewer", "nunique"), top=("top", "first"))
    out["grade"] = out["grade"].map(round_half_up).astype(int)
    return out.reset_index()[columns]


def consensus_labels(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    where = {"query_id": query_ids} if query_ids is not None else None
    judgments = store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative"])
    return consensus(judgments, source_scales(store))


def graded_qrels(store: Store, query_ids: Sequence[str]) -> Qrels:
    """Per (query, doc): the consensus grade on the query's scale (see graded_labels)."""
    return graded_labels(store, query_ids)[0]


def graded_labels(store: Store, query_ids: Sequence[str]) -> tuple[Qrels, dict[str, Scale]]:
    """Per (query, doc): the median grade over all its judgments, rounded half up, on the
    query's scale; and each judged query's scale.

    Every reviewer counts, imported qrels included. A hard-negative flag never makes a document
    relevant (its grade decides). An approved synthetic query with no judgments at all falls
    back to its source document at grade 5: approving the query says that document answers it.
    """
    if not query_ids:
        return {}, {}
    qrels: Qrels = {}
    scales: dict[str, Scale] = {}
    for start in range(0, len(query_ids), 500):
        labels = consensus_labels(store, list(query_ids[start : start + 500]))
        for qid, did, grade, top in zip(labels["query_id"], labels["doc_id"], labels["grade"], labels["top"]):
            qrels.setdefault(qid, {})[did] = int(grade)
            scales[qid] = Scale(int(top))
    missing = [q for q in query_ids if q not in qrels]
    if missing:
        rows = store.read(
            "queries",
            where={"query_id": missing, "origin": QueryOrigin.synthetic},
            columns=["query_id", "source_doc_id", "status"],
        )
        for qid, did, status in zip(rows["query_id"], rows["source_doc_id"], rows["status"]):
            if did and status == QueryStatus.approved.value:
                qrels[qid] = {did: FLYWHEEL_TOP}
    return qrels, scales
