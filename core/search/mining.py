"""Negatives mined with a retriever: sentence-transformers' `mine_hard_negatives`, fed the
corpus vectors already stored for the model so the corpus is never embedded twice.

Two callers want different windows of the retriever's ranking: the Hard negatives page
offers the closest unjudged documents (the top), while training and the triplet export follow
the library's recommended recipe (`training_negatives`): skip the closest few, which are too
often relevant documents nobody graded, and sample from the next ones.

The library mines in one call that cannot be interrupted, so queries go to it in chunks of
MINE_CHUNK (the corpus embeddings cached once, for every chunk): between two chunks the caller's
progress callback moves a count and is where a cancel lands.

A window's end is a rank of the model's ranking (positives left out), and Flywheel holds the
library to it. sentence-transformers 6.3 reads `range_max + max_positives + 1` candidates (the
extra one in case the query's own text is in the corpus) and takes the first `range_max` that
pass the score filters: when the margin or max_score drops one, the next document moves up into
the window. A re-ranker's window of 8 then mined the 9th closest document (issue 23).
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.progress import Progress

# sentence-transformers' recommended mining window (from the NV-Retriever paper): the base model's
# top 10 unlabelled documents are too often relevant ones nobody graded, so skip them, sample at
# random from the next 40, and drop any that scores above 0.8 or within 5% of the positive.
MINE_SKIP, MINE_WINDOW, MINE_MAX_SCORE = 10, 50, 0.8
NEGATIVES_PER_QUERY, MARGIN = 3, 0.05  # the defaults of a training run and of the triplet export
MINE_CHUNK = 64  # queries per library call: one encoding batch, well under a second on a CPU
CORPUS_CHUNK = 256  # documents embedded between two progress calls when no stored vectors fit


@dataclass(frozen=True)
class Mined:
    query_id: str
    positive_id: str  # the positive this negative was mined against
    doc_id: str
    score: float  # the retriever's similarity of query and negative


def mine_pairs(model: Any, queries: Mapping[str, str], doc_text: Mapping[str, str], positives: Mapping[str, list[str]], count: int, *,
               window: tuple[int, int] | None = None, sampling: str = "top", max_score: float | None = None, margin: float | None = None,
               seed: int = 0, corpus_vectors: Mapping[str, np.ndarray] | None = None, progress: Progress | None = None) -> list[Mined]:
    """Up to `count` negatives per query from `window` (skip, end) of `model`'s ranking of the
    corpus (default: from the top), never one of the query's positives; one row per
    (query, positive, negative), closest first. `progress(queries done, queries)` is told after
    each chunk of queries (and, at 0, while the corpus is embedded)."""
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
    texts = list(dict.fromkeys(queries[q] for q, _ in pairs))  # a chunk holds every pair of its queries
    state = random.getstate()  # the miner samples with the global `random`: seed it, then put it back
    random.seed(seed)
    mined: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="flywheel-mining-") as cache:
            matrix = cache_corpus(cache, model, corpus, by_text, corpus_vectors, (lambda: progress(0, len(texts))) if progress else None)
            for start in range(0, len(texts), MINE_CHUNK):
                chunk = set(texts[start : start + MINE_CHUNK])
                rows = [(queries[q], doc_text[d]) for q, d in pairs if queries[q] in chunk]
                dataset = Dataset.from_dict({"anchor": [a for a, _ in rows], "positive": [p for _, p in rows]})
                window_of = top_of_ranking(cache, model, rows, corpus, matrix, end) if end < len(corpus) else None
                found = mine_hard_negatives(
                    dataset, model, corpus=corpus, num_negatives=max(1, min(count, end - skip - 1)), range_min=skip, range_max=end,
                    max_score=max_score, relative_margin=margin, sampling_strategy=sampling, output_format="triplet",
                    output_scores=True, batch_size=64, verbose=False, cache_folder=cache,
                )
                mined.extend(row for row in found if window_of is None or row["negative"] in window_of[row["anchor"]])
                if progress:
                    progress(min(start + MINE_CHUNK, len(texts)), len(texts))
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
                       corpus_vectors: Mapping[str, np.ndarray] | None = None, progress: Progress | None = None) -> list[tuple[str, str]]:
    """(query, doc) negatives by the library's recipe: sampled at random from `window` of the
    ranking (default MINE_*), mined against each query's closest positive (closest_positive)."""
    corpus_size = len(set(doc_text.values()))
    if window is None:
        skip = min(MINE_SKIP, corpus_size // 10)  # a tiny corpus (27 categories) keeps most of its candidates
        window = (skip, max(MINE_WINDOW, skip + count + 5))
    best = closest_positive(model, queries, positives, corpus_vectors)
    mined = mine_pairs(model, queries, doc_text, best, count + 5, window=window, sampling="random", max_score=MINE_MAX_SCORE,
                       margin=margin, seed=seed, corpus_vectors=corpus_vectors, progress=progress)
    return [(m.query_id, m.doc_id) for m in mined]


def closest_positive(model: Any, queries: Mapping[str, str], positives: Mapping[str, list[str]],
                     corpus_vectors: Mapping[str, np.ndarray] | None) -> dict[str, list[str]]:
    """Per query, the one positive that the margin is measured against: the one the retriever
    scores highest. The first listed is arbitrary among equal grades, and the library, given them
    all, takes the lowest-scoring one; either way, on qrels with many positives (CISI: binary, ~26
    a query) nearly every candidate scored "within the margin of the positive", and 33 of 39
    queries got no negative at all. Needs the stored vectors; without them, the first positive."""
    best = {q: docs[:1] for q, docs in positives.items()}
    vectors = corpus_vectors or {}
    several = [q for q, docs in positives.items() if len(docs) > 1 and q in queries and all(d in vectors for d in docs)]
    if several:
        encoded = model.encode_query([queries[q] for q in several], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        for q, query_vector in zip(several, encoded, strict=True):
            scores = np.vstack([vectors[d] for d in positives[q]]) @ query_vector
            best[q] = [positives[q][int(np.argmax(scores))]]
    return best


def cache_file(folder: str, miner: Any, kind: str, texts: list[str]) -> Path:
    """Where `mine_hard_negatives(cache_folder=…)` looks for the embeddings of `texts` ("query" or
    "corpus"): its file name hashes the model name, the (absent) prompt and the texts."""
    name = getattr(miner.model_card_data, "base_model", None) or ""
    digest = hashlib.sha256(repr((name, None, None, texts)).encode(), usedforsecurity=False).hexdigest()
    return Path(folder) / f"{kind}_embeddings_{digest}.npy"


def cache_corpus(folder: str, miner: Any, corpus: list[str], by_text: Mapping[str, list[str]],
                 corpus_vectors: Mapping[str, np.ndarray] | None, tick: Callable[[], None] | None = None) -> np.ndarray:
    """Put the corpus embeddings where the library looks for them (cache_file), once for every
    chunk of queries, and return them: the stored vectors when they fit (no document prompt, none
    missing), else embedded here in chunks, calling `tick` between them. Should the library name
    its cache files differently, it simply embeds the corpus itself."""
    ids = [by_text[text][0] for text in corpus]
    if corpus_vectors and not (getattr(miner, "prompts", None) or {}).get("document") and all(d in corpus_vectors for d in ids):
        matrix = np.vstack([corpus_vectors[d] for d in ids]).astype(np.float32)
    else:
        parts = []
        for start in range(0, len(corpus), CORPUS_CHUNK):
            if tick:
                tick()
            parts.append(miner.encode_document(corpus[start : start + CORPUS_CHUNK], batch_size=64, normalize_embeddings=True,
                                               convert_to_numpy=True, show_progress_bar=False))
        matrix = np.vstack(parts)
    np.save(cache_file(folder, miner, "corpus", corpus), matrix)
    return matrix


def top_of_ranking(folder: str, miner: Any, rows: list[tuple[str, str]], corpus: list[str], matrix: np.ndarray, end: int) -> dict[str, set[str]]:
    """Per query text of `rows` (anchor, positive), the corpus texts at ranks [0, end) of the
    miner's ranking, its positives and its own text left out, as the library ranks them: the
    queries are embedded once, here, and cached for the library to read the same vectors."""
    anchors = list(dict.fromkeys(a for a, _ in rows))
    vectors = miner.encode_query(anchors, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    np.save(cache_file(folder, miner, "query", anchors), vectors)
    index, row_of = {text: i for i, text in enumerate(corpus)}, {a: i for i, a in enumerate(anchors)}
    scores = vectors @ matrix.T
    for a, text in [*rows, *((a, a) for a in anchors if a in index)]:
        scores[row_of[a], index[text]] = -np.inf
    top = np.argpartition(-scores, end - 1, axis=1)[:, :end]  # the `end` best, in no order
    return {a: {corpus[j] for j in top[i] if np.isfinite(scores[i, j])} for i, a in enumerate(anchors)}
