"""The review queue for synthetic queries: approve, edit-then-approve, reject, skip, undo.

Items are claimed (core.storage.claims, queue 'review', item id = query id) so two reviewers never
hold the same pending query. A decision is a guarded upsert (only while the row is still
pending), read back to confirm, then an `events` row; so a query is never decided twice and
nothing a reviewer decides is lost. Rejected queries stay (they teach the generator prompt).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from core.errors import ConflictError, InputError
from core.storage import claims
from core.storage.filters import Not
from core.storage.schemas import UNDO_KEY, QueryOrigin, QueryStatus, now, parse_target, target
from core.storage.store import Store

QUEUE = "review"
DECISIONS = ("approve", "edit", "reject")
UNDOABLE = (*DECISIONS, "skip")  # the undo stack: every decision and every skip, in the order made
PENDING = MappingProxyType({"status": QueryStatus.pending})  # a filter (and a guard on the stored row), read-only


@dataclass
class ReviewItem:
    query_id: str
    text: str
    generator: str
    source_doc_id: str | None
    doc_title: str
    doc_text: str
    created_at: object = None


# -- reading the queue ----------------------------------------------------------------------
def _filters(generator: str | None = None, doc_id: str | None = None, status: str | None = None) -> dict[str, str]:
    given = {"status": status, "generator": generator, "source_doc_id": doc_id}
    return {column: value for column, value in given.items() if value}


def pending_ids(store: Store, generator: str | None = None, doc_id: str | None = None) -> list[str]:
    """Pending query ids, oldest first (so the queue is worked in the order it was made)."""
    rows = store.read("queries", where=_filters(generator, doc_id, QueryStatus.pending.value), columns=["query_id", "created_at"])
    return list(rows.sort_values(["created_at", "query_id"])["query_id"])


def filter_options(store: Store) -> tuple[list[str], list[str]]:
    """Generators and source documents seen among synthetic queries, for the page's filters."""
    rows = store.read("queries", where={"source_doc_id": Not(None)}, columns=["generator", "source_doc_id"])
    return sorted(set(rows["generator"]) - {""}), sorted(set(rows["source_doc_id"]))


def load_item(store: Store, query_id: str) -> ReviewItem:
    row = _query_row(store, query_id)
    doc = pd.DataFrame()
    if row.get("source_doc_id"):
        doc = store.read("documents", where={"doc_id": row["source_doc_id"]}, columns=["title", "text"])
    return ReviewItem(
        query_id=query_id, text=row["text"], generator=row["generator"], source_doc_id=row.get("source_doc_id"),
        doc_title="" if doc.empty else doc["title"].iloc[0], doc_text="" if doc.empty else doc["text"].iloc[0],
        created_at=row.get("created_at"),
    )


def next_item(
    store: Store, reviewer: str, *, generator: str | None = None, doc_id: str | None = None, exclude: set[str] | frozenset = frozenset()
) -> ReviewItem | None:
    """The oldest pending query nobody else holds, now claimed by `reviewer`; None when the queue is empty."""
    candidates = [q for q in pending_ids(store, generator, doc_id) if q not in exclude]
    query_id = claims.claim_next(store, QUEUE, reviewer, candidates, still_open=lambda q: _is_pending(store, q))
    return load_item(store, query_id) if query_id else None


def texts(store: Store, query_ids: list[str]) -> dict[str, str]:
    """Text of each query in `query_ids` that is still pending."""
    frame = store.read("queries", where={"query_id": query_ids, **PENDING}, columns=["query_id", "text"])
    return dict(zip(frame["query_id"], frame["text"], strict=True))


def _is_pending(store: Store, query_id: str) -> bool:
    return store.count("queries", {"query_id": query_id, **PENDING}) == 1


def still_mine(store: Store, reviewer: str, query_id: str) -> bool:
    """True while the query is pending and `reviewer` holds (or can renew) its claim."""
    return _is_pending(store, query_id) and claims.try_claim(store, QUEUE, query_id, reviewer)


def release(store: Store, query_id: str, reviewer: str) -> None:
    claims.release(store, QUEUE, query_id, reviewer)


def pending_count(store: Store) -> int:
    return store.count("queries", PENDING)


# -- decisions ------------------------------------------------------------------------------
def _query_row(store: Store, query_id: str) -> dict:
    rows = store.read("queries", where={"query_id": query_id})
    if rows.empty:
        raise InputError(f"review expects an existing query id, but got {query_id!r}; reload the page")
    return {k: _none(v) for k, v in rows.iloc[0].to_dict().items()}


def _none(value):
    """pandas reads missing strings as NaN and missing times as NaT; the schema means None."""
    return None if not isinstance(value, str | list) and pd.isna(value) else value


def _guarded_write(store: Store, row: dict, guard: Mapping[str, object], reviewer: str, stamp) -> bool:
    """Upsert `row` only if `guard` holds on the stored row, then read back to confirm it is ours."""
    back = store.put_if("queries", row, guard, ["reviewer", "reviewed_at", "status"])
    if back.empty:
        return False
    got = {k: _none(v) for k, v in back.iloc[0].to_dict().items()}
    return got["reviewer"] == row["reviewer"] and got["status"] == row["status"] and (
        stamp is None or (got["reviewed_at"] is not None and pd.Timestamp(got["reviewed_at"]) == pd.Timestamp(stamp))
    )


def _decide(store: Store, reviewer: str, query_id: str, status: QueryStatus, action: str, changes: dict, detail: dict) -> None:
    if not reviewer.strip():
        raise InputError("a review decision expects the reviewer's name, but got none; enter your name in the sidebar")
    row = _query_row(store, query_id)
    if row["status"] != QueryStatus.pending.value:
        raise ConflictError(f"query {query_id} was already {row['status']} by {row.get('reviewer') or 'someone'}; moving on to the next item")
    if query_id in claims.held_by_others(store, QUEUE, reviewer):
        raise ConflictError(f"query {query_id} is being reviewed by another reviewer; skip to the next item")
    stamp = now()
    new = {**row, **changes, "status": status.value, "reviewer": reviewer, "reviewed_at": stamp}
    if not _guarded_write(store, new, PENDING, reviewer, stamp):
        raise ConflictError(f"query {query_id} was decided by another reviewer a moment ago; moving on to the next item")
    try:
        store.log(reviewer, action, target("query", query_id), generator=row["generator"], **detail)
    except Exception:
        _guarded_write(store, row, {"reviewer": reviewer}, row.get("reviewer"), None)  # undo our write: no decision without its event
        raise
    release(store, query_id, reviewer)


def approve(store: Store, reviewer: str, query_id: str, text: str | None = None) -> str:
    """Approve as is, or with an edited text (the generated text is kept in original_text). Returns 'approve' or 'edit'."""
    row = _query_row(store, query_id)
    edited = text is not None and text.strip() != row["text"]
    if text is not None and not text.strip():
        raise InputError("an edited query expects some text, but got an empty string; type the query or reject it instead")
    if not edited:
        _decide(store, reviewer, query_id, QueryStatus.approved, "approve", {}, {"text": row["text"]})
        return "approve"
    new_text = text.strip()
    original = row.get("original_text") or row["text"]
    _decide(store, reviewer, query_id, QueryStatus.approved, "edit", {"text": new_text, "original_text": original},
            {"text": new_text, "original_text": original})
    return "edit"


def reject(store: Store, reviewer: str, query_id: str, reason: str = "") -> None:
    """Reject, keeping the row (with the reason) as a negative example for the generator prompt."""
    reason = reason.strip()
    _decide(store, reviewer, query_id, QueryStatus.rejected, "reject", {"reject_reason": reason or None}, {"reason": reason})


def skip(store: Store, reviewer: str, query_id: str) -> None:
    """Leave the item pending for someone else (the page also hides it from this reviewer for the session)."""
    release(store, query_id, reviewer)
    store.log(reviewer, "skip", target("query", query_id))


@dataclass
class Undone:
    """What an undo took back: the query (back on the reviewer's screen when `restored`), the action
    undone, and a rejection's reason (so the page can offer it again)."""

    query_id: str
    action: str
    reason: str = ""
    restored: bool = True
    status_now: str = ""  # when not restored: what the query became meanwhile (someone else decided it)


def undo(store: Store, reviewer: str) -> Undone | None:
    """Take back the reviewer's latest not-yet-undone action, skips included: a stack, in the order made.

    A decision goes back to pending (an edit gets its original text back); a skipped query comes
    back to this reviewer. The query is claimed by the reviewer, so it shows next. A skip of a query
    someone else decided since cannot come back: it is taken off the stack all the same and said
    (`restored` False), never passed over for an older decision. None when there is nothing to undo.
    """
    events = store.read("events", where={"actor": reviewer, "action": [*UNDOABLE, "undo"]})
    if events.empty:
        return None
    events = events.sort_values("at", ascending=False, kind="stable")
    undone = {json.loads(d).get(UNDO_KEY) for d, a in zip(events["detail"], events["action"], strict=True) if a == "undo"}
    for event in events[events["action"].isin(UNDOABLE)].itertuples():
        if event.event_id in undone:
            continue
        query_id = parse_target(event.target)[1]
        row = _query_row(store, query_id)
        if event.action == "skip":
            return _undo_skip(store, reviewer, query_id, row, event.event_id)
        if row["status"] == QueryStatus.pending.value or row.get("reviewer") != reviewer:
            continue  # already back in the queue, or decided again by someone else since
        restored = {**row, "status": QueryStatus.pending.value, "reviewer": None, "reviewed_at": None, "reject_reason": None}
        if event.action == "edit" and row.get("original_text"):
            restored.update(text=row["original_text"], original_text=None)
        if not _guarded_write(store, restored, {"reviewer": reviewer, "status": row["status"]}, None, None):
            raise ConflictError(f"query {query_id} changed while undoing; reload the page")
        store.log(reviewer, "undo", target("query", query_id), **{UNDO_KEY: event.event_id}, was=row["status"])
        claims.try_claim(store, QUEUE, query_id, reviewer)
        return Undone(query_id, event.action, reason=(row.get("reject_reason") or "") if event.action == "reject" else "")
    return None


def _undo_skip(store: Store, reviewer: str, query_id: str, row: dict, event_id: str) -> Undone:
    """A skip comes back as the reviewer's item; one another reviewer decided since is only taken off the stack."""
    if row["status"] != QueryStatus.pending.value:
        store.log(reviewer, "undo", target("query", query_id), **{UNDO_KEY: event_id}, was="skipped", now=row["status"])
        return Undone(query_id, "skip", restored=False, status_now=row["status"])
    if not claims.try_claim(store, QUEUE, query_id, reviewer):
        raise ConflictError(f"query {query_id}, the one you skipped last, is being reviewed by another reviewer now; "
                            "press undo again once they are done")
    store.log(reviewer, "undo", target("query", query_id), **{UNDO_KEY: event_id}, was="skipped")
    return Undone(query_id, "skip")


# -- summaries and history ------------------------------------------------------------------
def review_summary(store: Store) -> pd.DataFrame:
    """Per generator of synthetic queries: pending, approved, rejected, approval_rate (approved / decided; NaN before any decision)."""
    rows = store.read("queries", where={"origin": QueryOrigin.synthetic}, columns=["generator", "status"])
    columns = ["generator", "pending", "approved", "rejected", "approval_rate"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    counts = pd.crosstab(rows["generator"], rows["status"])
    for status in ("pending", "approved", "rejected"):
        if status not in counts:
            counts[status] = 0
    counts = counts[["pending", "approved", "rejected"]].astype(int)
    decided = counts["approved"] + counts["rejected"]
    counts["approval_rate"] = (counts["approved"] / decided.where(decided > 0)).astype(float)
    return counts.reset_index()[columns]


def history(store: Store, query_ids: list[str]) -> pd.DataFrame:
    """The events of these queries, newest first: at, actor, action, query_id, detail."""
    if not query_ids:
        return pd.DataFrame(columns=["at", "actor", "action", "query_id", "detail"])
    events = store.read("events", where={"target": [target("query", q) for q in query_ids]}, columns=["at", "actor", "action", "target", "detail"])
    events["query_id"] = [parse_target(t)[1] for t in events["target"]]
    return events.drop(columns="target").sort_values("at", ascending=False).reset_index(drop=True)


def decided(store: Store, *, generator: str | None = None, doc_id: str | None = None, status: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Decided queries (newest first) with a one-line history each, for the table view."""
    where = {"status": Not(QueryStatus.pending)} | _filters(generator, doc_id, status) | {"origin": QueryOrigin.synthetic}
    rows = store.read("queries", where=where, columns=["query_id", "text", "status", "original_text", "reject_reason", "reviewer", "reviewed_at", "generator", "source_doc_id"])
    rows = rows.sort_values("reviewed_at", ascending=False, na_position="last").head(limit).reset_index(drop=True)
    events = history(store, list(rows["query_id"]))
    lines = events.sort_values("at").groupby("query_id").apply(
        lambda g: " → ".join(f"{a} by {who} {pd.Timestamp(t):%Y-%m-%d %H:%M}" for a, who, t in zip(g["action"], g["actor"], g["at"], strict=True)),
        include_groups=False,
    ) if not events.empty else pd.Series(dtype=str)
    rows["history"] = rows["query_id"].map(lines).fillna("")
    return rows
