"""First-stage retrieval for many queries at once: BM25, dense, and their convex fusion.

Fusion is a convex combination of per-query min-max normalised scores (Bruch et al. 2023:
it beats reciprocal-rank fusion and needs one weight, tuned on a few dozen queries). It is
written here rather than taken from `ranx.fuse`: ranx brings numba (a 20 s JIT compile on first
use in every fresh environment), ir-datasets and seaborn for these few lines, and the weight is
chosen below with our own paired test, which `optimize_fusion` does not do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from core.progress import Progress
from core.search.models import Embedder
from core.search.retrieval import Ranking, corpus_matrix
from core.storage.store import Store

CANDIDATE_DEPTH = 100  # each first-stage list is this deep before fusion
WEIGHTS = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))  # dense weight; 1 - w goes to BM25


def minmax(values: np.ndarray) -> np.ndarray:
    """Scores mapped to [0, 1] within one query (a constant list maps to zeros)."""
    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def convex(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """weight * first + (1 - weight) * second, each min-max normalised: the one fusion rule."""
    return weight * minmax(first) + (1.0 - weight) * minmax(second)


@dataclass
class Candidates:
    """One query's first-stage candidates: the union of the dense and BM25 top lists, with both scores."""

    doc_ids: list[str]
    dense: np.ndarray
    bm25: np.ndarray  # 0 for a document BM25 did not return (its scores are >= 0)

    def ranking(self, weight: float, depth: int) -> Ranking:
        """The fused order (weight 1: dense alone, with its cosines; 0: BM25 alone; ties broken by the dense score)."""
        fused = self.dense if weight >= 1.0 else convex(self.dense, self.bm25, weight)
        order = np.lexsort((-self.dense, -fused))[:depth]
        return [(self.doc_ids[i], float(fused[i])) for i in order]


def bm25_hits(store: Store, texts: Mapping[str, str], depth: int = CANDIDATE_DEPTH) -> dict[str, Ranking]:
    """Top-`depth` documents per query by LanceDB's full-text search (BM25 over title and text)."""
    out = {}
    for query_id, text in texts.items():
        hits = store.fts_search(text, depth)
        out[query_id] = [(str(d), float(s)) for d, s in zip(hits["doc_id"], hits["score"])]
    return out


class DenseIndex:
    """One model's embeddings of the whole corpus, for exact search of many queries at once."""

    def __init__(self, store: Store, embedder: Embedder, progress: Progress | None = None,
                 corpus: tuple[list[str], np.ndarray] | None = None):
        """`corpus`: the (doc ids, matrix) already read for this model, to skip reading them again."""
        self.embedder = embedder
        self.doc_ids, self.matrix = corpus if corpus is not None else corpus_matrix(store, embedder, progress)
        if not self.doc_ids:
            raise InputError("retrieval expects documents in the workspace, but got none. Import documents first.")
        self.position = {d: i for i, d in enumerate(self.doc_ids)}

    def candidates(self, texts: Mapping[str, str], bm25: Mapping[str, Ranking], depth: int = CANDIDATE_DEPTH) -> dict[str, Candidates]:
        """Per query, the dense top-`depth` joined with its BM25 hits, every document scored by both."""
        ids = list(texts)
        out: dict[str, Candidates] = {}
        for start in range(0, len(ids), 256):  # bounded memory: 256 score rows at a time
            chunk = ids[start : start + 256]
            scores = self.embedder.encode_queries([texts[q] for q in chunk]) @ self.matrix.T
            for query_id, row in zip(chunk, scores):
                top = np.argpartition(-row, min(depth, len(row)) - 1)[:depth] if len(row) > depth else np.arange(len(row))
                lexical = {d: s for d, s in bm25.get(query_id, []) if d in self.position}
                union = list(dict.fromkeys([self.doc_ids[i] for i in top] + list(lexical)))
                out[query_id] = Candidates(union, np.array([row[self.position[d]] for d in union], dtype=np.float64),
                                           np.array([lexical.get(d, 0.0) for d in union], dtype=np.float64))
        return out


def fused_rankings(candidates: Mapping[str, Candidates], weight: float, depth: int) -> dict[str, Ranking]:
    return {q: c.ranking(weight, depth) for q, c in candidates.items()}


def bm25_rankings(bm25: Mapping[str, Ranking], query_ids: Sequence[str], depth: int) -> dict[str, Ranking]:
    return {q: list(bm25.get(q, []))[:depth] for q in query_ids}
