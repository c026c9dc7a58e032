"""The workspace's schema version, and the way an older workspace is brought forward.

A workspace records its schema version (and the Flywheel that last wrote it) in a small `meta`
table of key/value rows. Opening one (`open_workspace`, from Store):

- a newer workspace than this code knows is refused before anything is written to it;
- an older one (no `meta` at all: made before schema versions) is migrated forward once, step by
  step, with a `migrate` event; two processes opening it at once migrate it once (the version
  is written by compare-and-set, and only the winner logs);
- a new one is stamped with the current version, with no event.

Adding a migration: bump SCHEMA_VERSION and add a step under the new number. Steps must be safe
to run twice (a process killed between a step and the version write runs it again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pyarrow as pa

from core.errors import InputError
from core.storage.schemas import KEYS, TABLES, target
from core.storage.store import PRIMARY_KEY, Store, retrying, sql_str

META = "meta"
SCHEMA_VERSION = 1
VERSION_KEY = "schema_version"
WRITTEN_BY_KEY = "flywheel_version"
META_SCHEMA = pa.schema([pa.field("key", pa.string(), nullable=False, metadata={PRIMARY_KEY: "true"}),
                         pa.field("value", pa.string(), nullable=False)])
SQL_TYPES = {pa.int64(): "BIGINT", pa.int32(): "INT", pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN",
             pa.string(): "STRING", pa.timestamp("us"): "TIMESTAMP"}


def flywheel_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flywheel")
    except PackageNotFoundError:
        return "unknown"


# -- meta rows -------------------------------------------------------------------------------
def read_meta(store: Store) -> dict[str, str]:
    """The workspace's key/value rows ({} before any were written)."""
    if META not in store.table_names():
        return {}
    rows = store.table(META).to_arrow().to_pylist()
    return {row["key"]: row["value"] for row in rows}


def ensure_meta(store: Store) -> None:
    if META not in store.table_names():
        retrying(lambda: store.db.create_table(META, schema=META_SCHEMA, exist_ok=True))


def write_meta(store: Store, values: dict[str, str], *, expect: dict[str, str | None] | None = None) -> bool:
    """Set meta rows. With `expect` ({key: the value it must still hold, None: absent}) it is a
    compare-and-set: returns whether this call wrote (False: another process got there first)."""
    ensure_meta(store)
    rows = pa.Table.from_pylist([{"key": k, "value": str(v)} for k, v in values.items()], schema=META_SCHEMA)
    with store.lock:
        table = store.table(META)
        if expect is None:
            retrying(lambda: table.merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(rows))
            return True
        _, old = next(iter(expect.items()))
        merge = table.merge_insert("key")
        merge = merge.when_not_matched_insert_all() if old is None else merge.when_matched_update_all(where=f"target.value = {sql_str(old)}")
        result = retrying(lambda: merge.execute(rows))
        return bool(result.num_inserted_rows or result.num_updated_rows)


# -- opening ---------------------------------------------------------------------------------
def schema_version(store: Store) -> int:
    """0 for a workspace made before schema versions."""
    return int(read_meta(store).get(VERSION_KEY, 0))


def open_workspace(store: Store, ensure_tables: Callable[[], None]) -> None:
    """Refuse a newer workspace, create or complete the tables, migrate an older one; then the
    retention every compaction uses and the daily optimize (core.storage.retention)."""
    names = set(store.table_names())
    meta = read_meta(store) if META in names else {}
    found = int(meta.get(VERSION_KEY, 0))
    if found > SCHEMA_VERSION:
        raise InputError(
            f"this Flywheel ({flywheel_version()}) expects a workspace of schema version {SCHEMA_VERSION} or older, but "
            f"{store.uri} is at version {found} (last written by Flywheel {meta.get(WRITTEN_BY_KEY, 'unknown')}); "
            "nothing was changed: upgrade Flywheel, or restore a backup taken before that upgrade (flywheel restore)")
    fresh = not names or (META in names and VERSION_KEY not in meta)  # meta comes first in a new one: being created
    if fresh:
        ensure_meta(store)
    ensure_tables()
    if fresh:
        write_meta(store, {VERSION_KEY: str(SCHEMA_VERSION)}, expect={VERSION_KEY: None})
        write_meta(store, {WRITTEN_BY_KEY: flywheel_version()}, expect={WRITTEN_BY_KEY: None})
    elif found < SCHEMA_VERSION:
        migrate(store, found)
    from core.storage import retention

    retention.on_open(store, fresh=fresh)


def migrate(store: Store, found: int) -> list[str]:
    """Run the steps after `found`, then write the version (once, by compare-and-set) and log it."""
    done = []
    for version in range(found + 1, SCHEMA_VERSION + 1):
        description, step = STEPS[version]
        step(store)
        done.append(f"{version}: {description}")
    old = read_meta(store).get(VERSION_KEY)
    if old is not None and int(old) >= SCHEMA_VERSION:  # another process finished first
        return []
    if write_meta(store, {VERSION_KEY: str(SCHEMA_VERSION)}, expect={VERSION_KEY: old}):
        write_meta(store, {WRITTEN_BY_KEY: flywheel_version()})
        store.log("flywheel", "migrate", target("schema", str(SCHEMA_VERSION)), from_version=found, to_version=SCHEMA_VERSION,
                  flywheel=flywheel_version(), steps=done)
        return done
    return []


# -- steps -----------------------------------------------------------------------------------
def sql_default(field: pa.Field, default) -> str:
    """A SQL expression for a new column's value in existing rows: the model's default, typed."""
    sql_type = SQL_TYPES.get(field.type)
    if sql_type is None:
        raise InputError(f"a migration expects a column of a simple type, but '{field.name}' is {field.type}; "
                         "write this migration step by hand")
    if default is None:
        literal = "NULL"
    elif isinstance(default, bool):
        literal = "true" if default else "false"
    elif isinstance(default, (int, float)):
        literal = repr(default)
    elif isinstance(default, datetime):
        literal = sql_str(default.isoformat(sep=" "))
    else:
        literal = sql_str(default)
    return f"CAST({literal} AS {sql_type})"


def add_missing_columns(store: Store, name: str) -> list[str]:
    """Add the columns of TABLES[name] that the stored table lacks, each holding the model's
    default in existing rows (text, numbers, flags, timestamps); returns the columns added."""
    model = TABLES[name]
    have = set(store.table(name).schema.names)
    missing = [f for f in model.to_arrow_schema() if f.name not in have]
    if not missing:
        return []
    for field in missing:
        info = model.model_fields[field.name]
        if info.is_required():
            raise InputError(f"migrating '{name}' expects a default for its new column '{field.name}', but it has none; "
                             "give the field a default in core/storage/schemas.py or write this step by hand")
    transforms = {f.name: sql_default(f, model.model_fields[f.name].get_default(call_default_factory=True)) for f in missing}
    with store.lock:
        retrying(lambda: store.table(name).add_columns(transforms))
    return sorted(transforms)


def _v1_unversioned(store: Store) -> None:
    """From a workspace made before schema versions: every table and column of today's schemas
    (ensure_tables made the missing tables and text columns; this adds the rest) and primary keys."""
    for name in TABLES:
        add_missing_columns(store, name)
        store._declare_primary_key(name, KEYS.get(name, []))


STEPS: dict[int, tuple[str, Callable[[Store], None]]] = {
    1: ("tables, columns and primary keys of schema 1 (workspaces made before schema versions)", _v1_unversioned),
}
assert sorted(STEPS) == list(range(1, SCHEMA_VERSION + 1)), "one migration step per schema version"
