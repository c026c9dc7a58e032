"""Work off the script thread whose result a page polls: a Future, on a daemon thread.

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
