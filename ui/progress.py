"""Progress bars for slow work on the script thread, gone as soon as the work is done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from core.search.models import Embedder
from core.search.retrieval import ensure_corpus_embeddings
from core.storage.store import Store


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar that a core `Progress` callback (done, total) moves; removed on leaving the block, even
    when the work had nothing to do or failed (a label left behind reads as work still going on)."""
    slot = st.empty()
    bar = slot.progress(0.0, text=f"{label}…")

    def update(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label} {done:,}/{total:,}")

    try:
        yield update
    finally:
        slot.empty()


def embed_corpus(store: Store, model: Embedder) -> int:
    """Embed new or changed documents for `model` with a progress bar (once per model and document);
    search, Grade's candidates and mining then start at once. Returns how many were embedded."""
    with progress_bar("Embedding documents for search (once per model)") as update:
        return ensure_corpus_embeddings(store, model, progress=update)
