"""Store: upserts on each table's key hold up when several processes write at once."""

from __future__ import annotations

import threading

import lancedb

from core.storage.schemas import KEYS, TABLES, Judgment, now
from core.storage.store import PRIMARY_KEY, Store


def primary_key(table) -> list[str]:
    return [f.name for f in table.schema if (f.metadata or {}).get(PRIMARY_KEY.encode())]


def test_keyed_tables_declare_their_key_as_primary_key(store):
    for name, keys in KEYS.items():
        assert primary_key(store.table(name)) == keys


def test_two_writers_inserting_the_same_new_key_leave_one_row(workspace):
    """Two handles (as two app processes would hold) upsert the same new judgments at the same moment."""
    first, second = Store(workspace.db_uri), Store(workspace.db_uri)

    def grade(handle: Store, query_id: str, value: int, barrier: threading.Barrier) -> None:
        stamp = now()
        barrier.wait()
        handle.upsert("judgments", [Judgment(query_id=query_id, doc_id="d", reviewer="ann", grade=value, created_at=stamp, updated_at=stamp)])

    for round_ in range(8):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=grade, args=(handle, f"q{round_}", value, barrier)) for handle, value in ((first, 1), (second, 4))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    rows = first.read("judgments")
    assert len(rows) == 8 and rows["query_id"].nunique() == 8


def test_a_workspace_made_before_primary_keys_gets_them(workspace):
    """Workspaces created by earlier versions have no key metadata: opening one adds it, data untouched."""
    db = lancedb.connect(workspace.db_uri)
    db.create_table("judgments", schema=TABLES["judgments"])
    stamp = now()
    db.open_table("judgments").add([Judgment(query_id="q", doc_id="d", reviewer="ann", grade=3, created_at=stamp, updated_at=stamp).model_dump()])
    assert primary_key(db.open_table("judgments")) == []

    store = Store(workspace.db_uri)
    assert primary_key(store.table("judgments")) == ["query_id", "doc_id", "reviewer"]
    assert store.read("judgments")["grade"].tolist() == [3]



def test_an_older_workspace_gains_the_run_name_and_tags_columns(workspace):
    """Runs made before runs had names: opening the workspace adds the columns, and renaming works."""
    from core.storage.schemas import Run
    from core.training import jobs

    db = lancedb.connect(workspace.db_uri)
    old = Run.to_arrow_schema()
    for added in old.names[old.get_field_index("finished_at") + 1 :]:  # every column appended since: name, tags, host, heartbeat
        old = old.remove(old.get_field_index(added))
    db.create_table("runs", schema=old)
    db.open_table("runs").add([{"run_id": "r1", "kind": "adapter", "base_model": "m", "config": "{}", "status": "succeeded",
                                "progress": "{}", "error": "", "model_path": "", "snapshot": "{}", "snapshot_hash": "", "pid": 0,
                                "created_at": now(), "started_at": None, "finished_at": None}])
    store = Store(workspace.db_uri)
    assert {"name", "tags"} <= set(store.table("runs").schema.names)
    assert jobs.list_runs(store)[0]["name"] == ""
    jobs.rename_run(store, "r1", " baseline adapter ", "demo,  first ,", actor="ann")
    row = jobs.read_run(store, "r1")
    assert (row["name"], row["tags"]) == ("baseline adapter", "demo, first")
    assert jobs.display_name(row) == "baseline adapter"
    assert store.count("events", "action = 'rename'") == 1


def test_a_table_another_process_made_meanwhile_is_taken_as_it_is(workspace, monkeypatch):
    """Two Ray ranks embedding one model: the other rank made the embeddings table and declared its
    primary key between this one's look and its create; create_table(exist_ok) called that a schema
    mismatch and failed the run (seen in CI)."""
    first, second = Store(workspace.db_uri), Store(workspace.db_uri)
    first.ensure_embeddings("m", 4)  # made, primary key declared

    def looked_too_early(store: Store) -> None:
        """The store's next look at its tables sees none; later looks see them all."""
        looks = []

        def table_names() -> list[str]:
            looks.append(1)
            return [] if len(looks) == 1 else Store.table_names(store)

        monkeypatch.setattr(store, "table_names", table_names)

    looked_too_early(second)
    second.ensure_embeddings("m", 4)
    assert second.count(second.embeddings_name("m")) == 0
    looked_too_early(second)  # the same race on a fresh workspace's own tables
    second.ensure_tables()
    assert set(TABLES) <= set(Store.table_names(second))
