"""Start logging your RAG app in one line: append one interaction to a JSONL file that
`flywheel import-logs` reads. Standard library only; copy this file into your app if you
prefer not to install Flywheel there.

    from flywheel_log import log_interaction

    log_interaction("logs/rag.jsonl", query, [(hit.id, hit.score) for hit in hits],
                    cited=answer.cited_ids, user=user_id, session=session_id)

Safe from several threads (one lock per file) and from several processes on a local disk
(each interaction is one write() of one line to a file opened in append mode).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

__all__ = ["log_interaction"]

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def _retrieved(items: Sequence) -> list[dict]:
    """Accepts doc ids, (doc_id, score) pairs or {doc_id, score} dicts, in rank order."""
    out = []
    for rank, item in enumerate(items, start=1):
        if isinstance(item, dict):
            doc_id, score = item["doc_id"], item.get("score")
        elif isinstance(item, (tuple, list)):
            doc_id, score = item[0], (item[1] if len(item) > 1 else None)
        else:
            doc_id, score = item, None
        out.append({"doc_id": str(doc_id), "rank": rank, "score": None if score is None else float(score)})
    return out


def log_interaction(
    path: str | os.PathLike,
    query: str,
    retrieved: Sequence,
    *,
    cited: Iterable[str] = (),
    clicked: Iterable[str] = (),
    thumbs: str | None = None,
    comment: str = "",
    session: str | None = None,
    user: str | None = None,
    app_version: str | None = None,
    interaction_id: str | None = None,
    timestamp: datetime | None = None,
) -> dict:
    """Append one interaction (Flywheel's log format) to `path` and return it.

    `retrieved` is the ranking your retriever returned, best first: doc ids, (doc_id, score)
    pairs or {"doc_id", "score"} dicts. `thumbs` is "up", "down" or None.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"log_interaction expects a non-empty query string, but got {query!r}")
    if thumbs not in (None, "up", "down"):
        raise ValueError(f"log_interaction expects thumbs 'up', 'down' or None, but got {thumbs!r}")
    stamp = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)  # noqa: UP017 - runs on Python 3.8+
    record = {
        "id": interaction_id or uuid.uuid4().hex,
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "query": query,
        "retrieved": _retrieved(retrieved),
        "cited": [str(d) for d in cited],
        "clicked": [str(d) for d in clicked],
        "feedback": {"thumbs": thumbs, "comment": comment} if thumbs or comment else None,
        "session": session,
        "user": user,
        "app_version": app_version,
    }
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    target = os.fspath(path)
    directory = os.path.dirname(target)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with _lock(os.path.abspath(target)):
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    return record
