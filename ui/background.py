"""Work off the script thread whose result a page polls: a Future, on a daemon thread; the search
model loading that way, once per process.

concurrent.futures' pools join their threads when the interpreter exits, so a server asked to
stop while the search model loads or a workspace is mined waited for it (tens of seconds on a
large corpus). A daemon thread does not hold the exit; the work is reads, and writes that LanceDB
commits atomically (an embedding batch cut short is written again next time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import streamlit as st

from core.search.models import Embedder


def start(work: Callable[..., Any], *args: Any, name: str) -> Future:
    """Run `work(*args)` on a new daemon thread; its result or exception lands in the returned Future."""
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work(*args))
        except BaseException as error:  # noqa: BLE001 - handed to whoever reads the future
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


_PRELOADED: dict[str, Future] = {}  # written once by the launcher, before the server serves; read-only after


def preload_embedder(model: str = "") -> None:
    """Load the model before the server serves (ui/launch.py), so a first Grade or Hard negatives visit
    finds it ready instead of waiting 5–10 s for torch, sentence-transformers and the weights."""
    loaded: Future = Future()
    loaded.set_result(Embedder(model or None))
    _PRELOADED[model] = loaded


@st.cache_resource(show_spinner=False)
def loading_embedder(model: str = "") -> Future[Embedder]:
    """The model, once per process ('' is the bundled MiniLM): the launcher's, or loading off the script
    thread (another model, or an app started without the launcher). Pages take it with
    ui.common.embedder (a spinner while it loads); background work (mining) waits on the future itself."""
    return _PRELOADED.get(model) or start(Embedder, model or None, name="model-load")
