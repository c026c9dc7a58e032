"""Writes across tables that are all or nothing without ever rolling a table back.

Several processes write one workspace at once (reviewers' app sessions, the CLI, an import).
Restoring a table to an earlier version would erase everything the others wrote meanwhile,
so an operation instead remembers, before each write, exactly which rows it is about to write
and what they held before; when anything fails it deletes its own new rows and puts back the
rows it replaced, each guarded so that a newer write by someone else is left alone.

`operation(store)` keeps that memory in the process (a grade: two small writes).
`operation(store, journal=…)` also records it in the `journal` table before each write, so
an operation whose process was killed is undone at the next open (`recover`), and the user
is told (an import: publish or nothing, even under SIGKILL). The rollback deletes by batch
(one filtered delete per table and write batch) under a recovery lease renewed as it goes,
and until the entry goes readers skip the import's rows (store.unpublished).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
from lancedb.pydantic import LanceModel

from core.storage import claims
from core.storage.filters import Where
from core.storage.liveness import process_gone
from core.storage.schemas import ROW_IDS, Event, JournalEntry, now
from core.storage.store import IN_CHUNK, Store, retrying, sql_in, sql_str, sql_value

BACKUP_PREFIX = "undo_"
RECOVERY_QUEUE = "recovery"
STALE_AFTER = timedelta(days=1)  # an entry from another machine counts as abandoned after this
RECOVERY_LEASE = timedelta(minutes=2)  # renewed before each step of a rollback; a killed recoverer's lapses this soon


def _rows(rows: Sequence[LanceModel | dict]) -> list[dict]:
    return [r.model_dump() if isinstance(r, LanceModel) else dict(r) for r in rows]


def _key(name: str, row: dict) -> tuple:
    return tuple(row[k] for k in ROW_IDS[name])


@dataclass
class Step:
    """One write: the keys it inserts (new) and the rows it replaces or deletes (before)."""

    table: str
    new: list[dict]
    before: list[dict]
    mark: str = ""  # a column whose written value says "still my version" (e.g. updated_at)
    written: dict = field(default_factory=dict)  # key → row as written, for the mark guard
    backup: str = ""  # side table holding `before` (journalled operations)


class Operation:
    """Writes through one operation; see the module docstring."""

    def __init__(self, store: Store, journal: JournalEntry | None = None):
        self.store, self.journal, self.steps = store, journal, []

    # -- writes -------------------------------------------------------------------------------
    def add(self, name: str, rows: Sequence[LanceModel | dict]) -> int:
        """Append rows with ids of their own (events, metrics): undone by deleting those ids."""
        records = _rows(rows)
        if records:
            self._remember(Step(name, new=[self._key_row(name, r) for r in records], before=[]))
            self.store.add(name, records)
        return len(records)

    def upsert(self, name: str, rows: Sequence[LanceModel | dict], *, mark: str = "", before: list[dict] | None = None) -> None:
        """Insert or replace by key: undone by deleting new keys and putting replaced rows back.
        `before`: the stored rows with these keys, when the caller has just read them."""
        records = _rows(rows)
        if not records:
            return
        before = self._read(name, records) if before is None else before
        present = {_key(name, r) for r in before}
        new = [self._key_row(name, r) for r in records if _key(name, r) not in present]
        written = {_key(name, r): r for r in records} if mark else {}
        self._remember(Step(name, new=new, before=before, mark=mark, written=written))
        self.store.upsert(name, records)

    def update(self, name: str, where: Where, values: dict) -> None:
        """Set columns on matching rows: undone by putting the rows back as they were."""
        before = self.store.read_rows(name, where)
        if before:
            self._remember(Step(name, new=[], before=before))
            self.store.update_where(name, where, values)

    def delete(self, name: str, where: Where) -> None:
        """Delete matching rows: undone by putting them back."""
        before = self.store.read_rows(name, where)
        if before:
            self._remember(Step(name, new=[], before=before))
            self.store.delete(name, where)

    def log(self, actor: str, action: str, target: str, **detail) -> None:
        """An audit event written as part of this operation (undone with it)."""
        self.add("events", [Event(event_id=uuid.uuid4().hex, at=now(), actor=actor, action=action, target=target,
                                  detail=json.dumps(detail, default=str))])

    # -- undo ---------------------------------------------------------------------------------
    def undo(self) -> list[str]:
        """Take this operation's writes out again, newest first; returns what could not be undone."""
        problems = []
        for step in reversed(self.steps):
            try:
                undo_step(self.store, step)
            except Exception as error:  # noqa: BLE001 - keep undoing the other steps
                problems.append(f"{step.table}: {error}")
        return problems

    def finish(self) -> None:
        """The commit point of a journalled operation: its entry goes, then its backups."""
        if self.journal is not None:
            self.store.delete("journal", f"op_id = {sql_str(self.journal.op_id)}")
            for step in self.steps:
                if step.backup:
                    self.store.drop(step.backup)

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _key_row(name: str, row: dict) -> dict:
        return {k: row[k] for k in ROW_IDS[name]}

    def _read(self, name: str, records: list[dict]) -> list[dict]:
        """The stored rows with these keys: read by the first key column (a short IN filter
        that scales to an import's 100k rows), matched on the whole key here."""
        first, wanted = ROW_IDS[name][0], {_key(name, r) for r in records}
        values = sorted({r[first] for r in records})
        rows = (row for i in range(0, len(values), IN_CHUNK) for row in self.store.read_rows(name, sql_in(first, values[i : i + IN_CHUNK])))
        return [row for row in rows if _key(name, row) in wanted]

    def _remember(self, step: Step) -> None:
        """Record the step before it is written (a write that fails may still have landed)."""
        self.steps.append(step)
        if self.journal is None:
            return
        if step.before:
            step.backup = f"{BACKUP_PREFIX}{self.journal.op_id}_{len(self.steps)}"
        self.journal.steps = json.dumps([{"table": s.table, "new": s.new, "backup": s.backup} for s in self.steps], default=str)
        self.store.upsert("journal", [self.journal])
        if step.backup:
            self.store.create_copy(step.backup, step.table, step.before)


def undo_step(store: Store, step: Step) -> int:
    """Delete the rows a step inserted and restore those it replaced, leaving newer writes by
    others alone (the `mark` guard); returns how many rows were deleted.

    The new rows go with one filtered delete per batch (store.delete_rows), not one per row.
    A step whose new rows are not there never wrote (a write lands whole or not at all: the
    process was killed during it), so nothing of it is deleted or restored."""
    def guard(row: dict, prefix: str = "") -> str:
        return f"{prefix}{step.mark} = {sql_value(row[step.mark])}" if step.mark else ""

    if step.mark:  # one by one: delete only where the stored row is still the one we wrote
        gone = 0
        for key in step.new:
            written = step.written.get(_key(step.table, key))
            gone += store.delete_rows(step.table, [key], only_if=guard(written) if written else "")
    else:
        gone = store.delete_rows(step.table, step.new)
        if step.new and not gone:
            return 0
    if not step.before:
        return gone
    if step.mark:  # one by one: restore only where the stored row is still the one we wrote
        for row in step.before:
            written = step.written.get(_key(step.table, row))
            store.upsert(step.table, [row], only_if=guard(written, "target.") if written else None)
    else:
        store.upsert(step.table, step.before)
    return gone


@contextmanager
def operation(store: Store, *, journal: str = "", kind: str = "import", actor: str = "", source: str = "") -> Iterator[Operation]:
    """All or nothing across tables; `journal` (a label such as "import 'x'") makes it survive a kill.
    `source`: the import whose rows readers skip until the operation finishes (store.unpublished)."""
    entry = None
    if journal:
        entry = JournalEntry(op_id=uuid.uuid4().hex, kind=kind, label=journal, actor=actor or "cli", host=socket.gethostname(),
                             pid=os.getpid(), started_at=now(), source=source)
        store.upsert("journal", [entry])
    op = Operation(store, entry)
    try:
        yield op
    except BaseException as error:
        problems = op.undo()
        if problems:
            error.add_note("could not undo every write: " + "; ".join(problems))
        else:
            op.finish()
        raise
    op.finish()


# -- recovery at open ---------------------------------------------------------------------------
def _abandoned(entry: dict) -> bool:
    """True when the process that owns a journal entry is gone (on another machine, one that
    started more than STALE_AFTER ago: an import does not beat)."""
    return process_gone(entry["host"], int(entry["pid"]), entry["started_at"], stale_after=STALE_AFTER)


def recover(store: Store) -> list[str]:
    """Undo the journalled operations of dead processes; returns one sentence per rollback."""
    told = []
    entries = store.read("journal", columns=["op_id", "host", "pid", "started_at"]).to_dict("records") if store.count("journal") else []
    for entry in entries:
        if _abandoned(entry):
            told.extend(_roll_back(store, entry["op_id"]))
    _sweep_backups(store)
    return told


def _roll_back(store: Store, op_id: str) -> list[str]:
    """Undo one abandoned entry under a recovery lease, renewed before each step: several
    processes may open the workspace at once, and only the lease's holder undoes it. A holder
    that loses the lease stops where it is; the next open goes on (each step can be redone)."""
    lease = claims.Lease(store, RECOVERY_QUEUE, op_id, f"recovery:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
                         RECOVERY_LEASE)
    if not lease.take():
        return []
    where = f"op_id = {sql_str(op_id)}"
    try:
        found = store.read_rows("journal", where)
        if not found:  # undone by an earlier holder since this process listed the journal
            return []
        entry, removed = found[0], 0
        steps = json.loads(entry["steps"])
        for step in reversed(steps):
            if not lease.renew():
                return []
            before = store.read_rows(step["backup"]) if step["backup"] and step["backup"] in store.table_names() else []
            removed += undo_step(store, Step(step["table"], new=step["new"], before=before))
        if not lease.renew():
            return []
        retrying(lambda: store.delete("journal", where))
        for step in steps:
            if step["backup"]:
                store.drop(step["backup"])
        store.log("flywheel", "rollback", f"{entry['kind']}:{op_id}", label=entry["label"], rows=removed)
    finally:
        lease.release()
    return [f"An interrupted {entry['label']} (started {pd.Timestamp(entry['started_at']):%Y-%m-%d %H:%M} UTC by "
            f"{entry['actor']}, process {entry['pid']}) was rolled back: {removed} rows it had written were removed."]


def _sweep_backups(store: Store) -> None:
    """Drop backup tables whose operation finished (a kill between its end and the drop).
    Tables are listed before the journal is read: a backup is only made once its entry exists."""
    backups = [name for name in store.table_names() if name.startswith(BACKUP_PREFIX)]
    if not backups:
        return
    live = set(store.read("journal", columns=["op_id"])["op_id"])
    for name in backups:
        if name[len(BACKUP_PREFIX):].rsplit("_", 1)[0] not in live:
            store.drop(name)
