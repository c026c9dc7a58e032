"""Negatives mined with a retriever: sentence-transformers' `mine_hard_negatives`, fed the
corpus vectors already stored for the model so the corpus is never embedded twice.

Two callers want different windows of the retriever's ranking: the Hard negatives page
offers the closest unjudged documents (the top), while training and the triplet export follow
the library's recommended recipe (`training_negatives`): skip the closest few, which are too
often relevant documents nobody graded, and sample from the next ones.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# sentence-transformers' recommended mining window (from the NV-Retriever paper): the base model's
# top 10 unlabelled documents are too often relevant ones nobody graded, so skip them, sample at
# random from the next 40, and drop any that scores above 0.8 or within 5% of the positive.
MINE_SKIP, MINE_WINDOW, MINE_MAX_SCORE = 10, 50, 0.8
NEGATIVES_PER_QUERY, MARGIN = 3, 0.05  # the defaults of a training run and of the triplet export


@dataclass(frozen=True)
class Mined:
    query_id: str
    positive_id: str  # the positive this negative was mined against
    doc_id: str
    score: float  # the retriever's similarity of query and negative


def mine_pairs(model: Any, queries: Mapping[str, str], doc_text: Mapping[str, str], positives: Mapping[str, list[str]], count: int, *,
               window: tuple[int, int] | None = None, sampling: str = "top", max_score: float | None = None, margin: float | None = None,
               seed: int = 0, corpus_vectors: Mapping[str, np.ndarray] | None = None) -> list[Mined]:
    """Up to `count` negatives per query from `window` (skip, end) of `model`'s ranking of the
    corpus (default: from the top), never one of the query's positives; one row per
    (query, positive, negative), closest first."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    pairs = [(q, d) for q, docs in positives.items() if q in queries for d in docs if d in doc_text]
    corpus = list(dict.fromkeys(doc_text.values()))
    if not pairs or len(corpus) < 2 or count < 1:
        return []
    by_text: dict[str, list[str]] = defaultdict(list)
    for d, t in doc_text.items():
        by_text[t].append(d)
    skip, end = window or (0, len(corpus))
    end = min(len(corpus), end)
    if end - skip < 2:
        return []
    dataset = Dataset.from_dict({"anchor": [queries[q] for q, _ in pairs], "positive": [doc_text[d] for _, d in pairs]})
    state = random.getstate()  # the miner samples with the global `random`: seed it, then put it back
    random.seed(seed)
    try:
        with tempfile.TemporaryDirectory(prefix="flywheel-mining-") as cache:
            seed_miner_cache(cache, model, corpus, by_text, corpus_vectors)
            mined = mine_hard_negatives(
                dataset, model, corpus=corpus, num_negatives=max(1, min(count, end - skip - 1)), range_min=skip, range_max=end,
                max_score=max_score, relative_margin=margin, sampling_strategy=sampling, output_format="triplet",
                output_scores=True, batch_size=64, verbose=False, cache_folder=cache,
            )
    finally:
        random.setstate(state)
    query_of_text = {queries[q]: q for q, _ in pairs}
    positive_of = {(queries[q], doc_text[d]): d for q, d in pairs}
    out = []
    for row in mined:
        q = query_of_text.get(row["anchor"])
        if q is not None:
            out.extend(Mined(q, positive_of.get((row["anchor"], row["positive"]), ""), d, float(row["scores"][1]))
                       for d in by_text.get(row["negative"], []))
    return out


def training_negatives(model: Any, queries: Mapping[str, str], doc_text: Mapping[str, str], positives: Mapping[str, list[str]],
                       count: int, margin: float, seed: int = 0, window: tuple[int, int] | None = None,
                       corpus_vectors: Mapping[str, np.ndarray] | None = None) -> list[tuple[str, str]]:
    """(query, doc) negatives by the library's recipe: sampled at random from `window` of the
    ranking (default MINE_*), mined against each query's best positive."""
    corpus_size = len(set(doc_text.values()))
    if window is None:
        skip = min(MINE_SKIP, corpus_size // 10)  # a tiny corpus (27 categories) keeps most of its candidates
        window = (skip, max(MINE_WINDOW, skip + count + 5))
    best = {q: docs[:1] for q, docs in positives.items()}
    mined = mine_pairs(model, queries, doc_text, best, count + 5, window=window, sampling="random", max_score=MINE_MAX_SCORE,
                       margin=margin, seed=seed, corpus_vectors=corpus_vectors)
    return [(m.query_id, m.doc_id) for m in mined]


def seed_miner_cache(folder: str, miner: Any, corpus: list[str], by_text: Mapping[str, list[str]],
                     corpus_vectors: Mapping[str, np.ndarray] | None) -> bool:
    """Put the stored corpus embeddings where `mine_hard_negatives(cache_folder=…)` looks for them
    (its file name hashes the model name and corpus), so the miner does not embed the corpus again.
    Skipped when a vector is missing or the model embeds documents with a prompt; should the
    library name its cache files differently, it simply embeds the corpus itself."""
    if not corpus_vectors or (getattr(miner, "prompts", None) or {}).get("document"):
        return False
    ids = [by_text[text][0] for text in corpus]
    if any(d not in corpus_vectors for d in ids):
        return False
    name = getattr(miner.model_card_data, "base_model", None) or ""
    digest = hashlib.sha256(repr((name, None, None, corpus)).encode(), usedforsecurity=False).hexdigest()
    np.save(Path(folder) / f"corpus_embeddings_{digest}.npy", np.vstack([corpus_vectors[d] for d in ids]).astype(np.float32))
    return True
