"""Candidate retrieval: cached corpus embeddings, vector, full-text and hybrid search.

Embeddings live in one LanceDB table per model version (`embeddings_<key>`) with a hash of
each document's text, so only new or edited documents are embedded again. They are written every
WRITE_ROWS documents: embedding that stops part-way (a cancel, a killed `flywheel embed` on a
large corpus) keeps what it wrote, and the next call embeds only the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import pandas as pd

from core.progress import Progress
from core.search.models import Embedder, document_text
from core.storage.store import Store

Ranking = list[tuple[str, float]]  # (doc_id, score), best first: what every retrieval stage returns
WRITE_ROWS = 4096  # documents embedded between two writes: few table versions, little lost if embedding stops
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)


class SearchMode(StrEnum):
    vector = "vector"
    fts = "full-text"
    hybrid = "hybrid"


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def ensure_corpus_embeddings(store: Store, embedder: Embedder, progress: Progress | None = None) -> int:
    """Embed documents that are new or changed for this model; returns how many were embedded."""
    store.ensure_embeddings(embedder.key, embedder.dim)
    table = store.embeddings_name(embedder.key)
    seen = store.version("documents")  # read before the documents, so a concurrent edit is never marked current
    if embedder.current.get(store.uri) == (seen, store.version(table)):
        return 0
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    known = store.read_embeddings(embedder.key, columns=("doc_id", "text_hash"))
    known_hash = dict(zip(known["doc_id"], known["text_hash"]))
    texts = [document_text(t, x) for t, x in zip(docs["title"], docs["text"])]
    hashes = [text_hash(t) for t in texts]
    todo = [i for i, (doc_id, h) in enumerate(zip(docs["doc_id"], hashes)) if known_hash.get(doc_id) != h]
    todo.sort(key=lambda i: -len(texts[i]))  # longest first across the corpus, as encode_documents orders one call
    for start in range(0, len(todo), WRITE_ROWS):
        part = todo[start : start + WRITE_ROWS]
        counted = (lambda done, total, *extra, at=start: progress(at + done, len(todo), *extra)) if progress else None
        vectors = embedder.encode_documents([texts[i] for i in part], progress=counted)
        rows = [{"doc_id": docs["doc_id"].iloc[i], "text_hash": hashes[i], "vector": vectors[n]} for n, i in enumerate(part)]
        store.write_embeddings(embedder.key, rows)
    store.drop_stale_embeddings(embedder.key, set(docs["doc_id"]))
    embedder.current[store.uri] = (seen, store.version(table))
    return len(todo)


def corpus_matrix(store: Store, embedder: Embedder, progress: Progress | None = None) -> tuple[list[str], np.ndarray]:
    """All document ids and their embeddings, for scoring many queries at once (evaluation)."""
    ensure_corpus_embeddings(store, embedder, progress)
    frame = store.read_embeddings(embedder.key, columns=("doc_id", "vector"))
    if frame.empty:
        return [], np.zeros((0, embedder.dim), np.float32)
    return list(frame["doc_id"]), np.vstack(frame["vector"].to_numpy()).astype(np.float32)


def rank_many(query_vectors: np.ndarray, doc_ids: Sequence[str], doc_matrix: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
    """Top-k (doc_id, cosine) for each query vector, by exact search."""
    if not len(doc_ids):
        return [[] for _ in range(len(query_vectors))]
    scores = query_vectors @ doc_matrix.T
    k = min(k, len(doc_ids))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out = []
    for row, idx in zip(scores, top):
        order = idx[np.argsort(-row[idx])]
        out.append([(doc_ids[j], float(row[j])) for j in order])
    return out


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> pd.DataFrame:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (RRF_K + rank)
    fused = sorted(scores.items(), key=lambda item: -item[1])[:k]
    return pd.DataFrame({"doc_id": [d for d, _ in fused], "score": [s for _, s in fused]})


def search(store: Store, embedder: Embedder | None, query: str, k: int = 10, mode: SearchMode | str = SearchMode.hybrid) -> pd.DataFrame:
    """Top-k documents for a query: columns doc_id, score, rank, title, text."""
    mode = SearchMode(mode)
    if mode is not SearchMode.fts and embedder is None:
        raise ValueError("vector and hybrid search need an embedder")
    if mode is SearchMode.fts:
        hits = store.fts_search(query, k)
    else:
        ensure_corpus_embeddings(store, embedder)
        vector_hits = store.vector_search(embedder.key, embedder.encode_queries([query])[0], k if mode is SearchMode.vector else 2 * k)
        if mode is SearchMode.vector:
            hits = vector_hits
        else:
            text_hits = store.fts_search(query, 2 * k)
            hits = reciprocal_rank_fusion([list(vector_hits["doc_id"]), list(text_hits["doc_id"])], k)
    hits = hits.reset_index(drop=True)
    hits["rank"] = np.arange(1, len(hits) + 1)
    if hits.empty:
        return hits.assign(title=[], text=[])
    docs = store.read("documents", where={"doc_id": hits["doc_id"]}, columns=["doc_id", "title", "text"])
    return hits.merge(docs, on="doc_id", how="left")
