"""A killed import is rolled back by batch (one delete per table and write batch, none for a
batch that never landed), by one recoverer at a time, and readers never see it half-written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import lancedb
import pytest

from core.storage import claims, operations
from core.storage.operations import Operation, operation
from core.storage.schemas import Document, JournalEntry, Judgment, now
from core.storage.store import Store
from tests.conftest import fill_small

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("documents", "queries", "judgments")

# Import 45 documents, 12 queries and 36 qrels in batches of 10 rows, and SIGKILL the process at
# the `nth` write of `table`: "between" batches (nothing of that batch journalled), or "during"
# one (journalled, its backup made, the write itself never committed).
KILL_AT = """
import os, signal, sys
sys.path.insert(0, {root!r})
from core.storage import imports, operations
from core.storage.store import Store
imports.WRITE_BATCH = 10
calls = {{}}
def kill_at(original):
    def write(self, name, rows, **kw):
        if name == {table!r}:
            calls[name] = calls.get(name, 0) + 1
            if calls[name] == {nth}:
                os.kill(os.getpid(), signal.SIGKILL)
        return original(self, name, rows, **kw)
    return write
if {when!r} == "between":
    operations.Operation.upsert = kill_at(operations.Operation.upsert)
else:
    Store.upsert = kill_at(Store.upsert)
imports.import_path(Store({uri!r}), {path!r}, name="big")
"""


def _beir(folder: Path) -> Path:
    """45 documents, 12 queries, 36 qrels (3 per query, one on the workspace's own document d1)."""
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"b{i:02d}", "title": "", "text": f"zebra number {i}"}) + "\n"
                                                 for i in range(45)))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": f"bq{i:02d}", "text": f"which zebra {i}?"}) + "\n" for i in range(12)))
    qrels = [(f"bq{q:02d}", doc, 1) for q in range(12) for doc in (f"b{q:02d}", f"b{q + 12:02d}", "d1")]
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in qrels))
    return folder


def _everything(store: Store) -> dict:
    return {name: sorted(map(str, store.read(name, unpublished=True, columns=[c for c in store.table(name).schema.names
                                                                                 if c not in {"created_at", "updated_at"}])
                             .to_dict("records")))
            for name in TABLES}


@pytest.mark.parametrize(("table", "nth", "when", "written"), [  # written: table → (batches, rows) that landed
    ("documents", 3, "between", {"documents": (2, 20)}),  # killed between the 2nd and 3rd batch
    ("documents", 3, "during", {"documents": (2, 20)}),  # killed in the 3rd batch's write
    ("judgments", 2, "during", {"documents": (5, 45), "queries": (2, 12), "judgments": (1, 10)}),  # every document written
])
def test_a_killed_import_is_rolled_back_by_batch(store, tmp_path, table, nth, when, written):
    fill_small(store)
    before = _everything(store)
    script = KILL_AT.format(root=str(ROOT), table=table, nth=nth, when=when, uri=store.uri, path=str(_beir(tmp_path / "big")))
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert store.count("documents", "source = 'big'", unpublished=True) == written["documents"][1]
    raw = lancedb.connect(store.uri)  # not a Store: opening one rolls back
    versions = {name: raw.open_table(name).version for name in TABLES}

    reopened = Store(store.uri)

    assert len(reopened.recovered) == 1 and "import 'big'" in reopened.recovered[0]
    assert f"{sum(rows for _, rows in written.values())} rows it had written were removed" in reopened.recovered[0]
    assert _everything(reopened) == before  # nothing of the import left, everyone else's rows as they were
    assert reopened.count("journal") == 0 and not [n for n in reopened.table_names() if n.startswith("undo_")]
    # one delete per table and written batch; none for a batch that never landed (not one per row)
    assert {name: reopened.version(name) - versions[name] for name in TABLES} == {name: written.get(name, (0, 0))[0] for name in TABLES}


def test_readers_skip_an_import_until_it_is_published(store):
    fill_small(store)
    store.ensure_fts_index()
    reader = Store(store.uri)  # another process's view
    shown_before = reader.count("documents"), reader.count("judgments")
    stamp = now()
    with operation(store, journal="import 'new'", source="new") as op:
        op.upsert("documents", [Document(doc_id="n1", title="", text="zebra crossing", source="new")])
        op.upsert("judgments", [Judgment(query_id="q1", doc_id="n1", reviewer="import:new", grade=3, created_at=stamp, updated_at=stamp)])
        during = reader.version("documents")
        assert (reader.count("documents"), reader.count("judgments")) == shown_before
        assert "n1" not in set(reader.read("documents")["doc_id"]) and "n1" not in reader.document_texts()
        assert reader.fts_search("zebra", 5).empty
        assert reader.count("documents", unpublished=True) == shown_before[0] + 1
    assert reader.version("documents") != during  # published: caches keyed on the version see it
    assert (reader.count("documents"), reader.count("judgments")) == (shown_before[0] + 1, shown_before[1] + 1)
    assert list(reader.fts_search("zebra", 5)["doc_id"]) == ["n1"]


def _abandoned_operation(store: Store, batches: int) -> str:
    """A journalled operation of a process on another machine, long gone: `batches` writes of 3 documents."""
    entry = JournalEntry(op_id=uuid.uuid4().hex, kind="import", label="import 'gone'", actor="cli", host="elsewhere", pid=1,
                         started_at=now().replace(year=2000), source="gone")
    store.upsert("journal", [entry])
    op = Operation(store, entry)
    for b in range(batches):
        op.upsert("documents", [Document(doc_id=f"g{b}-{i}", title="", text="t", source="gone") for i in range(3)])
    return entry.op_id


def test_two_recoveries_of_one_entry_never_run_at_once(store, monkeypatch):
    """A rollback that outlasts its lease keeps it (renewed each step): a second process opening
    the workspace meanwhile leaves the entry alone, and the first one finishes it."""
    fill_small(store)
    _abandoned_operation(store, batches=10)
    lease = 2.0
    monkeypatch.setattr(operations, "RECOVERY_LEASE", timedelta(seconds=lease), raising=False)
    undo, spans = operations.undo_step, []

    def slow_undo(*args, **kwargs):
        start = time.monotonic()
        time.sleep(0.5)
        gone = undo(*args, **kwargs)
        spans.append((threading.get_ident(), start, time.monotonic()))
        return gone

    monkeypatch.setattr(operations, "undo_step", slow_undo)
    first: list[Store] = []
    opening = threading.Thread(target=lambda: first.append(Store(store.uri)))
    began = time.monotonic()
    opening.start()
    time.sleep(lease + 0.5)  # the first recoverer's lease, had it not been renewed, has run out
    second = Store(store.uri)
    opened_second = time.monotonic()
    opening.join(timeout=60)

    assert {ident for ident, _, _ in spans} == {opening.ident}  # only the first process undid anything
    assert second.recovered == [] and len(first[0].recovered) == 1
    assert lease < opened_second - began and opened_second < spans[-1][2]  # the second came after a lease, during the rollback
    assert store.count("documents", "source = 'gone'", unpublished=True) == 0 and store.count("journal") == 0
    assert store.count("events", "action = 'rollback'") == 1


def test_a_lease_that_ran_out_is_not_renewed(store):
    """Even with nobody else on it: someone may have held it meanwhile, so its holder must stop."""
    lease = claims.Lease(store, "recovery", "op1", "recovery:a", timedelta(seconds=0.3))
    assert lease.take() and lease.renew()
    time.sleep(0.4)
    assert not lease.renew()
    assert claims.Lease(store, "recovery", "op1", "recovery:b", timedelta(minutes=1)).take()


def test_delete_rows_matches_whole_keys_only(store):
    """Multi-column keys go into one IN list as length-prefixed strings: ('ab', 'c') is not ('a', 'bc')."""
    stamp = now()
    rows = [Judgment(query_id=q, doc_id=d, reviewer=r, grade=1, created_at=stamp, updated_at=stamp)
            for q, d, r in [("ab", "c", "x"), ("a", "bc", "x"), ("a:1", "b", "x"), ("a", "1:b", "x"), ("é'", "z", "x"), ("q", "d", "y")]]
    store.add("judgments", rows)
    doomed = [{"query_id": "ab", "doc_id": "c", "reviewer": "x"}, {"query_id": "a:1", "doc_id": "b", "reviewer": "x"},
              {"query_id": "é'", "doc_id": "z", "reviewer": "x"}]
    version = store.version("judgments")
    assert store.delete_rows("judgments", doomed) == 3
    assert store.version("judgments") == version + 1  # one delete
    left = store.read("judgments", columns=["query_id", "doc_id", "reviewer"])
    assert sorted(map(tuple, left.values.tolist())) == [("a", "1:b", "x"), ("a", "bc", "x"), ("q", "d", "y")]
    assert store.delete_rows("judgments", doomed) == 0 and store.version("judgments") == version + 1  # nothing: no version
