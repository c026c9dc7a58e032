"""Schema versions: an older workspace is migrated once, a newer one refused (core.storage.migrations)."""

from __future__ import annotations

import json

import lancedb
import pyarrow as pa
import pytest

from core.errors import InputError
from core.storage import migrations
from core.storage.schemas import TABLES, now
from core.storage.store import PRIMARY_KEY, Store

# What a workspace made before schema versions lacked: these tables and columns came later
# (journal and sources tables; runs' name, tags, host and heartbeat; curve points' counts; judgments' origin).
LATER_TABLES = {"journal", "sources"}
LATER_COLUMNS = {"runs": {"name", "tags", "host", "heartbeat"}, "curve_points": {"counts"}, "judgments": {"origin"}}


def unversioned_workspace(uri: str, drop: dict[str, set[str]] = LATER_COLUMNS) -> None:
    """Tables with the older column sets, no primary keys declared, no meta table, a few rows."""
    db = lancedb.connect(uri)
    for name, model in TABLES.items():
        if name in LATER_TABLES:
            continue
        schema = model.to_arrow_schema()
        schema = pa.schema([f.remove_metadata() for f in schema if f.name not in drop.get(name, set())])
        db.create_table(name, schema=schema)
    stamp = now()

    def add(name: str, row: dict) -> None:
        table = db.open_table(name)
        defaults = {k: f.get_default() for k, f in TABLES[name].model_fields.items() if not f.is_required()}
        full = {k: v for k, v in (defaults | row).items() if k in table.schema.names}
        table.add(pa.Table.from_pylist([full], schema=table.schema))

    add("documents", {"doc_id": "d1", "title": "t", "text": "x", "metadata": "{}", "source": "old"})
    add("judgments", {"query_id": "q1", "doc_id": "d1", "reviewer": "ann", "grade": 4, "hard_negative": False, "note": "",
                      "created_at": stamp, "updated_at": stamp})
    add("runs", {"run_id": "r1", "kind": "bi-encoder", "base_model": "m", "status": "succeeded", "pid": 7, "created_at": stamp})


def migrate_events(store: Store) -> list[dict]:
    return store.read_rows("events", "action = 'migrate'")


def test_an_unversioned_workspace_is_migrated_once(tmp_path):
    uri = str(tmp_path / "db")
    unversioned_workspace(uri)
    store = Store(uri)
    assert migrations.schema_version(store) == migrations.SCHEMA_VERSION
    [event] = migrate_events(store)
    detail = json.loads(event["detail"])
    assert (detail["from_version"], detail["to_version"]) == (0, migrations.SCHEMA_VERSION)
    assert LATER_TABLES <= set(store.table_names())
    [run] = store.read_rows("runs")
    assert (run["run_id"], run["pid"], run["name"], run["host"], run["heartbeat"]) == ("r1", 7, "", "", "")
    assert "counts" in store.table("curve_points").schema.names
    assert store.table("judgments").schema.field("query_id").metadata == {PRIMARY_KEY.encode(): b"true"}
    assert store.read_rows("judgments")[0]["grade"] == 4  # the data came through
    Store(uri)
    assert len(migrate_events(Store(uri))) == 1  # once


def test_new_columns_of_any_type_get_their_defaults(tmp_path):
    """The migration step adds what ensure_tables cannot (numbers, flags, times), with the model's default."""
    uri = str(tmp_path / "db")
    unversioned_workspace(uri, drop={"runs": {"pid", "started_at", "name"}, "judgments": {"hard_negative"}})
    store = Store(uri)
    [run] = store.read_rows("runs")
    assert (run["pid"], run["started_at"], run["name"]) == (0, None, "")
    assert store.read_rows("judgments")[0]["hard_negative"] is False


def test_a_new_workspace_is_stamped_without_a_migration(tmp_path):
    store = Store(str(tmp_path / "db"))
    assert migrations.read_meta(store)[migrations.VERSION_KEY] == str(migrations.SCHEMA_VERSION)
    assert migrate_events(store) == []


def test_a_newer_workspace_is_refused_and_left_alone(tmp_path):
    uri = str(tmp_path / "db")
    store = Store(uri)
    migrations.write_meta(store, {migrations.VERSION_KEY: str(migrations.SCHEMA_VERSION + 1), migrations.WRITTEN_BY_KEY: "9.0"})
    store.db.drop_table("fewshot")
    with pytest.raises(InputError, match=rf"schema version {migrations.SCHEMA_VERSION} or older, but .* is at version "
                                         rf"{migrations.SCHEMA_VERSION + 1} \(last written by Flywheel 9.0\)"):
        Store(uri)
    assert "fewshot" not in store.table_names()  # nothing was created in it
