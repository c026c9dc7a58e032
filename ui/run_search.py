"""The Data page's search with a run's shipped pipeline: what the run measured, on the documents of today.

The pipeline is loaded once per process and documents version (a new import loads it again); its
dense model is the app's shared copy, and the corpus is embedded for it first with a progress bar,
so the cached load itself only reads stored vectors.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.storage.store import Store
from core.training.pipeline import Pipeline, PipelineSpec, load_pipeline, served_runs
from ui.common import embedder
from ui.progress import embed_corpus
from ui.safe_text import escape

BASE = ""  # the choice "no run": the bundled model, with the page's mode


def run_choice(store: Store) -> dict | None:
    """A selectbox of the runs with a pipeline; None for the bundled model and the page's own modes."""
    runs = served_runs(store)
    if not runs:
        return None
    by_id = {r["run_id"]: r for r in runs}
    chosen = st.selectbox("Search with", [BASE, *by_id], key="data_search_run",
                          format_func=lambda r: "the bundled model (choose the mode)" if r == BASE else f"run {by_id[r]['name']}",
                          help="A run's shipped pipeline ranks exactly as the run measured it (its model, fusion weight and re-ranking stage).")
    if chosen == BASE:
        return None
    st.caption(f"Run {escape(by_id[chosen]['name'])} ships: {by_id[chosen]['describe']}.")  # a name is typed text: never markup
    return by_id[chosen]


@st.cache_resource(show_spinner=False, max_entries=2)
def _pipeline(folder: str, uri: str, documents_version: object, dense: str, _store: Store) -> Pipeline:
    return load_pipeline(folder, _store, embedder=embedder(dense) if dense is not None else None)


def pipeline_for(store: Store, run: dict) -> Pipeline:
    """The run's pipeline over `store`, its corpus embedded for its dense model first (a bar, once)."""
    spec = PipelineSpec.load(run["folder"])
    dense = spec.dense_path(run["folder"]) if "dense" in spec.stages else None
    if dense is not None:
        embed_corpus(store, embedder(dense))
    return _pipeline(run["folder"], store.uri, store.version("documents"), dense, store)


def hits(store: Store, run: dict, query: str, k: int) -> pd.DataFrame:
    """The pipeline's top-k for `query` as the page's search shows hits: doc_id, score, rank, title, text."""
    found = pd.DataFrame(pipeline_for(store, run).search(query, k), columns=["rank", "doc_id", "score", "title"])
    if found.empty:
        return found.assign(text=[])
    docs = store.read("documents", where={"doc_id": list(found["doc_id"])}, columns=["doc_id", "text"])
    return found.merge(docs, on="doc_id", how="left")
