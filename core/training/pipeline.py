"""What a run ships: a retrieval pipeline, saved beside its model and served as measured.

A pipeline is a first stage (BM25, a dense model, or both fused with a weight chosen on
validation queries), how deep it searches, and optionally a re-ranker fused on top. It is
saved as `pipeline.json` in the run's folder, so `load_pipeline(path).search(query, k)` (and
`flywheel search --run`) serve exactly what the run measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.progress import Progress
from core.search.fusion import CANDIDATE_DEPTH, DenseIndex, Ranking, bm25_hits, bm25_rankings, fused_rankings
from core.search.models import Embedder
from core.storage.store import Store
from core.training.jobs import display_name, list_runs

PIPELINE_FILE = "pipeline.json"


@dataclass
class PipelineSpec:
    """What a run ships, saved as pipeline.json: enough to serve it and to say how it was chosen."""

    stages: list[str]  # e.g. ["bm25", "dense"], ["dense"], ["bm25", "dense", "rerank"]
    dense_model: str = ""  # a path (relative to the spec's folder when inside it) or a model id; '' = the bundled MiniLM
    fusion_weight: float = 1.0  # dense weight of the first stage; 1 - weight goes to BM25
    depth: int = CANDIDATE_DEPTH
    reranker: str = ""  # path of a re-ranker, relative like dense_model
    rerank_weight: float = 0.0
    rerank_depth: int = 0
    ltr: str = ""  # a LightGBM text model (training.ltr) re-ranking the first stage's top rerank_depth, relative like dense_model
    workspace: str = ""  # the workspace whose documents it searches
    chosen: dict[str, Any] = field(default_factory=dict)  # how each part was chosen (validation figures)

    def save(self, folder: Path) -> Path:
        path = Path(folder) / PIPELINE_FILE
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> PipelineSpec:
        path = Path(folder)
        path = path / PIPELINE_FILE if path.is_dir() else path
        if not path.exists():
            raise InputError(f"loading a pipeline expects {PIPELINE_FILE} in '{path.parent}', but there is none; "
                             "pass a run's folder (runs trained before pipelines were saved have none: train again)")
        try:
            values = json.loads(path.read_text())
            return cls(**values)
        except (ValueError, TypeError) as error:
            raise InputError(f"{path} is not a pipeline spec ({error}); it should be the file a run wrote") from None

    def dense_path(self, folder: str | Path) -> str:
        """The dense model to load: a path inside `folder` when the run saved it there, else as named ('' = bundled)."""
        return _resolve(self.dense_model, Path(folder))

    def describe(self) -> str:
        """The pipeline in words; the dense model is the run's fine-tuned one when saved in its folder ("model")."""
        parts = {"bm25": "BM25", "dense": "dense (fine-tuned)" if self.dense_model == "model" else "dense (base model)", "rerank": "re-ranker"}
        first = " + ".join(parts[s] for s in self.stages if s != "rerank")
        text = first + (f" fused (dense weight {self.fusion_weight:g})" if {"bm25", "dense"} <= set(self.stages) else "")
        if "rerank" in self.stages and self.ltr:
            text += f", then a learning-to-rank stage (from the fused score) over its top {self.rerank_depth}"
        elif "rerank" in self.stages and self.rerank_weight > 0:
            text += f", then a re-ranker fused at weight {self.rerank_weight:g} over its top {self.rerank_depth}"
        elif "rerank" in self.stages:
            text += "; no re-ranker (none beat this on validation queries)"
        return text


class Pipeline:
    """A loaded pipeline over a workspace: `search(query, k)` ranks its documents."""

    def __init__(self, spec: PipelineSpec, folder: Path, store: Store, progress: Progress | None = None,
                 embedder: Embedder | None = None):
        """`progress` hears the corpus being embedded for the dense model (once per model and document);
        `embedder`: that model already loaded (the app's, shared with its other pages)."""
        self.spec, self.store = spec, store
        if "dense" not in spec.stages:
            self.embedder = None
        else:
            self.embedder = embedder or Embedder(spec.dense_path(folder) or None)
        self.index = DenseIndex(store, self.embedder, progress) if self.embedder else None
        self.reranker, self.ltr, self.cross_encoder = None, None, None
        if "rerank" in spec.stages and spec.ltr and self.index is not None:
            from core.training.ltr import LtrStage

            self.ltr = LtrStage.load(_resolve(spec.ltr, folder))
            if self.ltr.uses_cross_encoder:  # its logit is one of the stage's features
                from core.training.cross_encoder import Reranker

                self.cross_encoder = Reranker(_resolve(spec.reranker, folder)).model
        elif "rerank" in spec.stages and spec.rerank_weight > 0:
            from core.training.cross_encoder import Reranker

            self.reranker = Reranker(_resolve(spec.reranker, folder), spec.rerank_weight)

    def rank(self, texts: Mapping[str, str], k: int) -> dict[str, Ranking]:
        """Top-k per query id, for many queries at once."""
        depth = max(k, self.spec.rerank_depth if self.reranker or self.ltr else k)
        lexical = bm25_hits(self.store, texts, self.spec.depth) if "bm25" in self.spec.stages else {}
        if self.index is None:
            first = bm25_rankings(lexical, list(texts), depth)
        else:
            weight = self.spec.fusion_weight if "bm25" in self.spec.stages else 1.0
            candidates = self.index.candidates(texts, lexical, self.spec.depth)
            first = fused_rankings(candidates, weight, depth)
            if self.ltr is not None:
                reranked = self.ltr.rerank_first(self.store, first, candidates, texts, self.spec.rerank_depth, self.cross_encoder)
                return {q: r[:k] for q, r in reranked.items()}
        if self.reranker is None:
            return {q: r[:k] for q, r in first.items()}
        return {q: r[:k] for q, r in self.reranker.rerank_texts(self.store, first, texts).items()}

    def search(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        """The top-k documents for one query: rank, doc_id, score, title."""
        if not query.strip():
            raise InputError("search expects a query, but got an empty one")
        if not 1 <= int(k) <= 1000:
            raise InputError(f"search expects k from 1 to 1000, but got {k}")
        ranking = self.rank({"q": query}, k)["q"]
        docs = self.store.read("documents", where={"doc_id": [d for d, _ in ranking]}, columns=["doc_id", "title"]) if ranking else None
        titles = dict(zip(docs["doc_id"], docs["title"])) if docs is not None else {}
        return [{"rank": i, "doc_id": d, "score": round(s, 6), "title": titles.get(d, "")} for i, (d, s) in enumerate(ranking, start=1)]


def _resolve(path: str, folder: Path) -> str:
    if not path:
        return ""
    inside = Path(folder) / path
    return str(inside) if inside.exists() else path


def load_pipeline(path: str | Path, store: Store | None = None, progress: Progress | None = None,
                  embedder: Embedder | None = None) -> Pipeline:
    """The pipeline a run saved (its folder or pipeline.json), over `store` or the workspace it was trained on."""
    spec = PipelineSpec.load(path)
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    if store is None:
        if not spec.workspace:
            raise InputError("this pipeline names no workspace; pass the store to search")
        store = Store(spec.workspace)
    return Pipeline(spec, folder, store, progress, embedder)


def served_runs(store: Store) -> list[dict[str, Any]]:
    """The succeeded runs, newest first, whose folder holds a pipeline to search with: run_id, name (as
    people read it), folder, and what the pipeline is in words."""
    out = []
    for run in list_runs(store):
        folder = Path(run["model_path"]).parent if run["model_path"] else None
        if run["status"] != "succeeded" or folder is None or not (folder / PIPELINE_FILE).exists():
            continue
        try:
            spec = PipelineSpec.load(folder)
        except InputError:
            continue  # an unreadable file is the CLI's to explain; the page offers the runs it can serve
        out.append({"run_id": run["run_id"], "name": display_name(run), "folder": str(folder), "describe": spec.describe()})
    return out
