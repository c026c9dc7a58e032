"""Progress bars for slow work on the script thread, gone as soon as the work is done."""

from __future__ import annotations

import streamlit as st

from core.search.models import Embedder
from core.search.retrieval import ensure_corpus_embeddings
from core.storage.store import Store


class ProgressBar:
    """A core `Progress` drawn with st.progress: the phase (at first `label`), its count and the
    note. The bar appears at the first call; used as a context manager (`with progress_bar(…) as
    update`) it is removed on leaving the block, even when the work had nothing to do or failed
    (a label left behind reads as work still going on)."""

    def __init__(self, label: str):
        self.phase = label
        self.slot = None

    def __call__(self, done: int, total: int, phase: str = "", note: str = "") -> None:
        self.phase = phase or self.phase
        if self.slot is None:
            self.slot = st.empty()
        count = f" {done:,}/{total:,}" if total else "…"
        self.slot.progress(min(done / total, 1.0) if total else 0.0, text=self.phase + count + (f" · {note[:60]}" if note else ""))

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.slot is not None:
            self.slot.empty()


def progress_bar(label: str) -> ProgressBar:
    return ProgressBar(label)


def embed_corpus(store: Store, model: Embedder) -> int:
    """Embed new or changed documents for `model` with a progress bar (once per model and document);
    search, Grade's candidates and mining then start at once. Returns how many were embedded."""
    with progress_bar("Embedding documents for search (once per model)") as update:
        return ensure_corpus_embeddings(store, model, progress=update)
