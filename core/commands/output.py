"""How every command prints: one JSON value per line, the last line machine-readable."""

from __future__ import annotations

import json


def print_json(value) -> None:
    print(json.dumps(value, default=str))


def open_store(settings, *, create: bool = True):
    """The workspace's Store; read-only commands pass create=False so a typo in --workspace
    does not make an empty one. Rollbacks done at open (an interrupted import) are announced."""
    import sys

    from core.storage.store import Store

    store = Store(settings.db_uri, create=create)
    for message in store.recovered:
        print(f"note: {message}", file=sys.stderr)
    return store


def counter(label: str):
    """A progress callback `(done, total)` that redraws one stderr line: "label [done/total]"."""
    import sys

    def progress(done: int, total: int) -> None:
        print(f"\r{label} [{done}/{total}]", end="" if done < total else "\n", file=sys.stderr, flush=True)

    return progress
