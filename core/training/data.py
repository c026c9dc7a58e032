"""Training examples from the team's labels: positives, ordered negatives, validation queries.

Positives are documents graded in the top band of their query's relevance scale (or >=
`positive_grade` when a run sets one; labels.positive_threshold), median over reviewers, or the
source document of an approved synthetic query. Negatives come in order of value: reviewer-flagged
hard negatives, low-graded candidates (labels.negative_ceiling), then documents mined with the base model
(`sentence_transformers.util.mine_hard_negatives`, with a margin so near-duplicates of the
positive are not used). Validation queries are carved out of the train split, never eval.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.labeling.labels import (
    FLYWHEEL,
    Scale,
    graded_labels,
    negative_ceiling,
    positive_rule,
    positive_threshold,
    relevant_documents,
)
from core.progress import Progress
from core.search.mining import training_negatives
from core.storage.schemas import QueryOrigin, Split
from core.storage.splits import normalise
from core.storage.store import Store

MIN_PAIRS = 20  # below this, a run is unlikely to beat the base model
MIN_VALIDATION = 5


@dataclass
class TrainingData:
    query_text: dict[str, str]
    doc_text: dict[str, str]
    positives: dict[str, list[str]]  # train query -> positive doc ids
    negatives: dict[str, list[str]]  # train query -> negative doc ids, most valuable first
    negative_source: dict[tuple[str, str], str]  # (query, doc) -> flagged | low-graded | mined
    grades: dict[str, dict[str, int]]  # train query -> doc -> aggregated grade (cross-encoder labels)
    validation: dict[str, dict[str, int]]  # validation query -> doc -> grade
    eval_query_count: int = 0
    below_threshold: int = 0  # pairs graded 1 .. below their positive threshold
    positive_grade: int = 0  # 0: the top band of each query's scale
    relevant_grade: int = 1  # the eval's relevant grade (Settings.relevant_grade): validation counts the same documents
    scales: dict[str, Scale] = field(default_factory=dict)  # train/validation query -> its relevance scale
    warnings: list[str] = field(default_factory=list)

    @property
    def positive_rule(self) -> str:
        """The positive rule that was applied, in words (saved with the run, shown on the Train page)."""
        return positive_rule(self.positive_grade, {self.scales.get(q, FLYWHEEL) for q in self.query_text} or {FLYWHEEL})

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(q, d) for q, docs in self.positives.items() for d in docs]

    def validation_relevant(self) -> dict[str, list[str]]:
        """Per validation query, the documents its early-stopping metric counts as relevant (labels.relevant_documents)."""
        return {q: [d for d in relevant_documents(docs, self.relevant_grade) if d in self.doc_text] for q, docs in self.validation.items()}

    def counts(self) -> dict[str, int]:
        sources = list(self.negative_source.values())
        return {
            "train_queries": len(self.positives),
            "validation_queries": len(self.validation),
            "eval_queries": self.eval_query_count,
            "train_pairs": len(self.pairs),
            "positives": len({d for docs in self.positives.values() for d in docs}),
            "hard_negatives": sources.count("flagged"),
            "low_graded": sources.count("low-graded"),
            "mined": sources.count("mined"),
            "graded_pairs": sum(len(g) for g in self.grades.values()),
        }


def _queries(store: Store, split: str) -> dict[str, str]:
    frame = store.split_queries(split, columns=["query_id", "text"])
    return dict(zip(frame["query_id"], frame["text"]))


def _flagged(store: Store, query_ids: list[str]) -> set[tuple[str, str]]:
    flagged: set[tuple[str, str]] = set()
    for start in range(0, len(query_ids), 500):
        rows = store.read(
            "judgments", where={"query_id": query_ids[start : start + 500], "hard_negative": True}, columns=["query_id", "doc_id"]
        )
        flagged |= set(zip(rows["query_id"], rows["doc_id"]))
    return flagged


def build(
    store: Store,
    positive_grade: int = 0,
    negatives_per_query: int = 3,
    validation_fraction: float = 0.15,
    seed: int = 0,
    miner: Any = None,
    mining_margin: float = 0.05,
    relevant_grade: int = 1,
    mining_window: tuple[int, int] | None = None,
    corpus_vectors: Mapping[str, np.ndarray] | None = None,
    progress: Progress | None = None,
    rerank_depth: int = 0,
) -> TrainingData:
    """Collect the training data; `miner` (a SentenceTransformer) adds mined negatives, from
    `mining_window` (skip, end) of its ranking or, by default, the library's recommended window (search.mining.training_negatives).
    `rerank_depth` > 0 builds a re-ranker's data (reranker_negatives): negatives from the top of the ranking it re-ranks.
    `corpus_vectors` (doc_id → the miner's stored embedding) spares the miner re-embedding the corpus;
    `progress` is told after each chunk of mined queries (where a run's cancel lands)."""
    train = _queries(store, Split.train.value)
    evaluation = _queries(store, Split.eval.value)
    eval_texts = {normalise(t) for t in evaluation.values()}
    train = {q: t for q, t in train.items() if normalise(t) not in eval_texts}  # no leakage, even of duplicates
    ids = sorted(train)
    grades, scales = graded_labels(store, ids)  # same aggregation as eval: median over reviewers, on each query's scale
    threshold = {q: positive_threshold(scales.get(q, FLYWHEEL), positive_grade) for q in ids}
    synthetic = store.read(
        "queries", where={"query_id": ids, "origin": QueryOrigin.synthetic}, columns=["query_id", "source_doc_id"]
    ) if ids else None
    sources = {} if synthetic is None else {q: d for q, d in zip(synthetic["query_id"], synthetic["source_doc_id"]) if d}
    flagged = _flagged(store, ids)
    doc_text = store.document_texts()

    positives: dict[str, list[str]] = {}
    for q in ids:
        graded = grades.get(q, {})
        pos = [d for d, g in sorted(graded.items(), key=lambda item: -item[1]) if g >= threshold[q] and d in doc_text]
        source = sources.get(q)
        if source and source in doc_text and source not in pos and graded.get(source, threshold[q]) >= threshold[q]:
            pos.append(source)
        if pos:
            positives[q] = pos

    rng = random.Random(seed)
    with_pos = sorted(positives)
    validation: dict[str, dict[str, int]] = {}
    n_val = int(round(len(with_pos) * validation_fraction))
    if validation_fraction > 0 and n_val >= MIN_VALIDATION and len(with_pos) - n_val >= MIN_VALIDATION:
        for q in rng.sample(with_pos, n_val):
            validation[q] = {d: g for d, g in grades.get(q, {}).items()} | {d: scales.get(q, FLYWHEEL).top for d in positives[q] if d not in grades.get(q, {})}
            del positives[q]

    negatives: dict[str, list[str]] = defaultdict(list)
    negative_source: dict[tuple[str, str], str] = {}

    cap = {q: reranker_negatives(len(positives[q]), negatives_per_query, rerank_depth) if rerank_depth else negatives_per_query for q in positives}

    def add_negative(q: str, d: str, source: str) -> None:
        graded = grades.get(q, {})
        if d in doc_text and d not in positives[q] and d not in negatives[q] and len(negatives[q]) < cap[q]:
            if source == "mined" and d in graded and graded[d] > low:
                return  # a reviewer found it at least partly relevant
            negatives[q].append(d)
            negative_source[(q, d)] = source

    low = negative_ceiling(relevant_grade)
    flagged_by_query: dict[str, list[str]] = defaultdict(list)
    for q, d in sorted(flagged):
        flagged_by_query[q].append(d)
    for q in positives:
        graded = grades.get(q, {})
        for d in (d for d in flagged_by_query[q] if graded.get(d, 0) < threshold[q]):
            add_negative(q, d, "flagged")
        for d, g in sorted(graded.items(), key=lambda item: item[1]):
            if g <= low:
                add_negative(q, d, "low-graded")
    if miner is not None and negatives_per_query > 0:
        count, window = negatives_per_query, mining_window
        if rerank_depth:  # reach past the judged positives that fill the top (they are never negatives)
            count = max(cap.values(), default=negatives_per_query)
            window = (0, rerank_depth + min(rerank_depth, max((len(p) for p in positives.values()), default=0)))
        for q, d in training_negatives(miner, train, doc_text, positives, count, mining_margin, seed, window,
                                       corpus_vectors, progress):
            add_negative(q, d, "mined")

    data = TrainingData(
        query_text={q: train[q] for q in list(positives) + list(validation)},
        doc_text=doc_text,
        positives=positives,
        negatives=dict(negatives),
        negative_source=negative_source,
        grades={q: grades.get(q, {}) for q in positives},
        validation=validation,
        eval_query_count=len(evaluation),
        below_threshold=sum(1 for q in ids for g in grades.get(q, {}).values() if 1 <= g < threshold[q]),
        positive_grade=positive_grade,
        relevant_grade=relevant_grade,
        scales={q: scales.get(q, FLYWHEEL) for q in list(positives) + list(validation)},
    )
    data.warnings = warnings(data, negatives_per_query, mined=miner is not None)
    return data


def reranker_negatives(positives: int, negatives_per_query: int, depth: int) -> int:
    """How many negatives a re-ranker trains on for a query with `positives` positives: as many as
    it has positives, up to the depth it re-ranks, and at least `negatives_per_query`. Classes stay
    balanced per query: on CISI (~26 relevant documents a query) 3 negatives against 26 positives
    taught the head that nearly everything is relevant (bench/README.md, issue 13)."""
    return max(negatives_per_query, min(positives, depth)) if negatives_per_query > 0 else 0


def warnings(data: TrainingData, negatives_per_query: int, mined: bool) -> list[str]:
    counts = data.counts()
    notes = []
    if counts["train_pairs"] == 0:
        notes.append(f"No training pairs: approve queries or grade documents in the train split as positives ({data.positive_rule}); "
                     "run `flywheel split` first.")
    elif counts["train_pairs"] < MIN_PAIRS:
        notes.append(f"Only {counts['train_pairs']} training pairs: expect little or no gain below about {MIN_PAIRS}.")
    if counts["train_pairs"] < MIN_PAIRS and data.below_threshold:
        notes.append(f"{data.below_threshold} judged pairs are graded below the positive rule ({data.positive_rule}): "
                     "a lower positive grade would train on them.")
    if counts["eval_queries"] == 0:
        notes.append("No eval queries: assign a train/eval split first, or before/after cannot be measured.")
    if not data.validation:
        notes.append("Too few train queries for a validation set: no early stopping, and the re-ranker fusion weight stays 0.5.")
    if negatives_per_query and not mined and counts["hard_negatives"] + counts["low_graded"] == 0:
        notes.append("No flagged or low-graded negatives yet: negatives will be mined with the base model at launch.")
    return notes


def bi_encoder_rows(data: TrainingData, negatives_per_query: int, seed: int = 0) -> dict[str, list[str]]:
    """Columns anchor, positive, negative_1..n for MultipleNegativesRankingLoss (every row has n)."""
    rng = random.Random(seed)
    all_docs = sorted(data.doc_text)
    columns: dict[str, list[str]] = {"anchor": [], "positive": []} | {f"negative_{i + 1}": [] for i in range(negatives_per_query)}
    for q, d in data.pairs:
        negs = list(data.negatives.get(q, []))
        if not negs and negatives_per_query:  # random documents, never one a reviewer graded above 0
            pool = [x for x in all_docs if x not in data.positives[q] and not data.grades.get(q, {}).get(x, 0)]
            negs = rng.sample(pool, min(len(pool), negatives_per_query))
        columns["anchor"].append(data.query_text[q])
        columns["positive"].append(data.doc_text[d])
        for i in range(negatives_per_query):
            columns[f"negative_{i + 1}"].append(data.doc_text[negs[i % len(negs)]] if negs else data.doc_text[d])
    return columns


def _graded_pairs(data: TrainingData) -> dict[tuple[str, str], float]:
    """(query, document) -> grade on its query's scale: judged pairs as graded, ungraded positives
    (a synthetic query's source) the top of the scale, negatives 0. Unjudged documents enter only
    as negatives, i.e. past the mining guard (data.build), never labelled 0 blindly."""
    pairs: dict[tuple[str, str], float] = {}
    for q in data.positives:
        for d, g in data.grades.get(q, {}).items():
            if d in data.doc_text:
                pairs[(q, d)] = float(g)
        for d in data.positives[q]:
            pairs.setdefault((q, d), float(data.scales.get(q, FLYWHEEL).top))
        for d in data.negatives.get(q, []):
            pairs.setdefault((q, d), 0.0)
    return pairs


def cross_encoder_rows(data: TrainingData) -> dict[str, list]:
    """Columns query, document, label in [0, 1]: graded pairs (grade / the top of its query's scale), positives 1, negatives 0."""
    pairs = _graded_pairs(data)
    keys = sorted(pairs)
    return {"query": [data.query_text[q] for q, _ in keys], "document": [data.doc_text[d] for _, d in keys],
            "label": [pairs[(q, d)] / data.scales.get(q, FLYWHEEL).top for q, d in keys]}


def cross_encoder_lists(data: TrainingData, max_docs: int = 32, seed: int = 0) -> dict[str, list]:
    """Columns query, docs, labels for listwise losses (LambdaLoss): one row per train query with
    the same pairs as cross_encoder_rows, labels the grades themselves (LambdaLoss's gain 2^g - 1
    then rewards a 5 over a 1). A list longer than `max_docs` keeps its zero-graded documents and a
    seeded sample of the rest, so one query with 150 judged documents cannot fill a batch alone."""
    by_query: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (q, d), g in sorted(_graded_pairs(data).items()):
        by_query[q].append((d, g))
    rng = random.Random(seed)
    columns: dict[str, list] = {"query": [], "docs": [], "labels": []}
    for q, items in by_query.items():
        if len(items) > max_docs:
            zeros, graded = [x for x in items if x[1] == 0], [x for x in items if x[1] > 0]
            items = sorted(zeros[: max_docs // 2] + rng.sample(graded, min(len(graded), max_docs - min(len(zeros), max_docs // 2))))
        if len({g for _, g in items}) < 2:
            continue  # all one grade: no pair to order, nothing for a listwise loss to learn
        columns["query"].append(data.query_text[q])
        columns["docs"].append([data.doc_text[d] for d, _ in items])
        columns["labels"].append([g for _, g in items])
    return columns
