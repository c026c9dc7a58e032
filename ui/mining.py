"""Hard-negative candidates mined off the script thread, so the Hard negatives page opens with them.

A visit starts mining the workspace in the background (after the search model has loaded, if it
has not yet); the page polls its progress with a fragment and shows the queue when it is done. A
pass is shared by every session of the process for FRESH_S seconds per workspace and settings, so
a team opening the page mines once; pairs decided since drop out when a session takes the list.
The worker never calls st.*: it writes progress into a Recorder that the page reads.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import streamlit as st

from core.labeling import hardnegatives
from core.search.models import Embedder
from core.storage.store import Store
from ui import background

FRESH_S = 300  # a finished pass older than this is mined again on the next visit (new grades, new candidates)


class Recorder:
    """A core `Progress` that keeps the latest report, for a page to draw (written by the worker thread)."""

    def __init__(self, phase: str) -> None:
        self._lock = threading.Lock()
        self._state = (0, 0, phase, "")

    def __call__(self, done: int, total: int, phase: str = "", note: str = "") -> None:
        with self._lock:
            self._state = (done, total, phase or self._state[2], note)

    def read(self) -> tuple[int, int, str, str]:
        with self._lock:
            return self._state


@dataclass
class Pass:
    """One mining pass: its result (the candidates as records), what it reports, when it started."""

    future: Future
    progress: Recorder
    started: float = field(default_factory=time.monotonic)

    def stale(self) -> bool:
        failed = self.future.done() and self.future.exception() is not None
        return failed or (self.future.done() and time.monotonic() - self.started > FRESH_S)


def _mine(store: Store, model: Future[Embedder], options: dict, progress: Recorder) -> list[dict]:
    embedder = model.result()  # loading, when the page was the first to need it
    return hardnegatives.mined_candidates(store, embedder, progress=progress, **options).to_dict("records")


class Passes:
    """The process's passes by (workspace, settings); the lock keeps two sessions from starting the same one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passes: dict[tuple, Pass] = {}

    def get(self, store: Store, uri: str, model: Future[Embedder], options: dict, again: bool = False) -> Pass:
        key = (uri, *sorted(options.items()))
        with self._lock:
            held = self._passes.get(key)
            if held is None or held.stale() or (again and held.future.done()):
                progress = Recorder("Loading the search model" if not model.done() else "Starting")
                held = self._passes[key] = Pass(background.start(_mine, store, model, options, progress, name="hn-mining"), progress)
            return held


@st.cache_resource(show_spinner=False)
def passes() -> Passes:
    return Passes()
