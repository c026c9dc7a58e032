"""The only module that talks to LanceDB.

Typed, table-named functions over one connection. Upserts go through LanceDB's
merge_insert on each table's key (schemas.KEYS); `atomic()` gives all-or-nothing writes
across tables by restoring the versions it started from when anything fails.
"""

from __future__ import annotations

import json
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import lancedb
import pandas as pd
import pyarrow as pa
from lancedb.pydantic import LanceModel

from core.storage.schemas import KEYS, TABLES, Event, document_text, now

EMBEDDINGS_PREFIX = "embeddings_"
PRIMARY_KEY = "lance-schema:unenforced-primary-key"
COMPACT_EVERY = 200  # small writes (one grade, one decision) each add a fragment: compact now and then


def sql_str(value: Any) -> str:
    """Quote a value as a SQL string literal (user text never reaches a filter unquoted)."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[Any]) -> str:
    items = [sql_str(v) for v in values]
    return f"{column} IN ({', '.join(items)})" if items else "false"


def _records(rows: Iterable[LanceModel | dict]) -> list[dict]:
    return [r.model_dump() if isinstance(r, LanceModel) else dict(r) for r in rows]


class Store:
    """A workspace's LanceDB database. Safe to share across threads of one process."""

    def __init__(self, uri: str):
        self.uri = uri
        # read_consistency_interval=0: every read sees writes made by other processes (CLI, a second app).
        self.db = lancedb.connect(uri, read_consistency_interval=timedelta(0))
        self._lock = threading.RLock()
        self._writes: dict[str, int] = {}
        self.ensure_tables()

    # -- tables ---------------------------------------------------------------------------
    def table_names(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self.db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                return names

    def ensure_tables(self) -> None:
        existing = set(self.table_names())
        for name, model in TABLES.items():
            if name not in existing:
                self.db.create_table(name, schema=model, exist_ok=True)
            else:
                self._add_missing_columns(name, model)
            self._declare_primary_key(name, KEYS.get(name, []))

    def _add_missing_columns(self, name: str, model: type[LanceModel]) -> None:
        """A workspace made by an older version gets the text columns added since (e.g. a run's name), as ''."""
        table = self.table(name)
        have = set(table.schema.names)
        missing = [f for f in model.to_arrow_schema() if f.name not in have]
        if missing and all(pa.types.is_string(f.type) for f in missing):
            with self._lock:
                table.add_columns({f.name: "CAST('' AS STRING)" for f in missing})

    def _declare_primary_key(self, name: str, keys: Sequence[str]) -> None:
        """Mark a table's merge key as its (unenforced) primary key, once. Without it, two
        processes upserting the same *new* key at once both insert and leave duplicate rows;
        with it, LanceDB detects the conflict and retries one writer against the other's row."""
        if not keys:
            return
        table = self.table(name)
        if any((field.metadata or {}).get(PRIMARY_KEY.encode()) for field in table.schema):
            return
        try:
            table.update_field_metadata(*({"path": key, "metadata": {PRIMARY_KEY: "true"}} for key in keys))
        except Exception as error:  # noqa: BLE001 - a backend without field metadata (e.g. a remote one) still works
            warnings.warn(f"could not declare {keys} as the primary key of '{name}' ({error}); "
                          "concurrent inserts of one new key may leave duplicate rows", stacklevel=2)

    def table(self, name: str):
        return self.db.open_table(name)

    # -- generic reads and writes ---------------------------------------------------------
    def add(self, name: str, rows: Iterable[LanceModel | dict]) -> int:
        records = _records(rows)
        if records:
            with self._lock:
                self.table(name).add(self._arrow(name, records))
                self._after_write(name)
        return len(records)

    def upsert(self, name: str, rows: Iterable[LanceModel | dict], *, only_if: str | None = None) -> Any:
        """Insert rows, replacing those with the same key; `only_if` guards the update
        (e.g. "target.status = 'pending'") so a concurrent decision is not overwritten."""
        records = _records(rows)
        if not records:
            return None
        with self._lock:
            merge = self.table(name).merge_insert(KEYS[name])
            merge = merge.when_matched_update_all(where=only_if).when_not_matched_insert_all()
            result = merge.execute(self._arrow(name, records))
            self._after_write(name)
            return result

    def update_where(self, name: str, where: str, values: dict[str, Any]) -> int:
        """Update matching rows; returns how many changed."""
        with self._lock:
            result = self.table(name).update(where=where, values=values)
            self._after_write(name)
            return getattr(result, "rows_updated", 0)

    def delete(self, name: str, where: str) -> None:
        with self._lock:
            self.table(name).delete(where)
            self._after_write(name)

    def read(
        self,
        name: str,
        where: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        table = self.table(name)
        if where is None and limit is None and columns is None:
            return table.to_arrow().to_pandas()
        query = table.search().where(where) if where else table.search()
        if columns is not None:
            query = query.select(list(columns))
        return query.limit(limit or max(table.count_rows(), 1)).to_pandas()

    def document_texts(self, doc_ids: Iterable[str] | None = None) -> dict[str, str]:
        """doc id -> the text models read (schemas.document_text), for all documents or some."""
        where = None if doc_ids is None else sql_in("doc_id", list(doc_ids))
        docs = self.read("documents", where=where, columns=["doc_id", "title", "text"])
        return {d: document_text(t, x) for d, t, x in zip(docs["doc_id"], docs["title"], docs["text"])}

    def query_texts(self, query_ids: Iterable[str] | None = None, where: str | None = None) -> dict[str, str]:
        """query id -> text, for the given ids and/or a filter."""
        clauses = ([] if query_ids is None else [sql_in("query_id", list(query_ids))]) + ([where] if where else [])
        frame = self.read("queries", where=" AND ".join(clauses) or None, columns=["query_id", "text"])
        return dict(zip(frame["query_id"], frame["text"]))

    def count(self, name: str, where: str | None = None) -> int:
        return self.table(name).count_rows(where) if where else self.table(name).count_rows()

    def _arrow(self, name: str, records: list[dict]) -> pa.Table:
        schema = self.table(name).schema
        return pa.Table.from_pylist(records, schema=schema)

    def _after_write(self, name: str) -> None:
        self._writes[name] = self._writes.get(name, 0) + 1
        if self._writes[name] % COMPACT_EVERY == 0:
            self.compact(name)

    def compact(self, name: str) -> None:
        """Merge small fragments (many single-row upserts) so reads stay fast."""
        try:
            self.table(name).optimize(cleanup_older_than=timedelta(days=7))
        except Exception:  # noqa: BLE001 - compaction is an optimisation; a failed one changes nothing
            pass

    @contextmanager
    def atomic(self, *names: str) -> Iterator[None]:
        """All-or-nothing writes to the named tables: on any error, restore their earlier versions."""
        with self._lock:
            versions = {name: self.table(name).version for name in names}
            try:
                yield
            except BaseException:
                for name, version in versions.items():
                    table = self.table(name)
                    if table.version != version:
                        table.restore(version)
                raise

    # -- events ---------------------------------------------------------------------------
    def log(self, actor: str, action: str, target: str, **detail: Any) -> None:
        event = Event(
            event_id=uuid.uuid4().hex, at=now(), actor=actor, action=action, target=target, detail=json.dumps(detail, default=str)
        )
        self.add("events", [event])

    # -- embeddings (one table per model version) -----------------------------------------
    def embeddings_name(self, model_key: str) -> str:
        return EMBEDDINGS_PREFIX + model_key

    def ensure_embeddings(self, model_key: str, dim: int) -> None:
        name = self.embeddings_name(model_key)
        if name not in self.table_names():
            schema = pa.schema(
                [
                    pa.field("doc_id", pa.string(), nullable=False),
                    pa.field("text_hash", pa.string(), nullable=False),
                    pa.field("vector", pa.list_(pa.float32(), dim), nullable=False),
                ]
            )
            self.db.create_table(name, schema=schema, exist_ok=True)
        self._declare_primary_key(name, ["doc_id"])

    def write_embeddings(self, model_key: str, rows: list[dict]) -> None:
        if not rows:
            return
        name = self.embeddings_name(model_key)
        with self._lock:
            table = self.table(name)
            data = pa.Table.from_pylist(rows, schema=table.schema)
            table.merge_insert("doc_id").when_matched_update_all().when_not_matched_insert_all().execute(data)
            self._after_write(name)

    def read_embeddings(self, model_key: str, columns: Sequence[str] = ("doc_id", "text_hash", "vector")) -> pd.DataFrame:
        name = self.embeddings_name(model_key)
        if name not in self.table_names():
            return pd.DataFrame(columns=list(columns))
        return self.read(name, columns=columns)

    def drop_stale_embeddings(self, model_key: str, live_doc_ids: set[str]) -> None:
        frame = self.read_embeddings(model_key, columns=("doc_id",))
        stale = set(frame["doc_id"]) - live_doc_ids
        if stale:
            self.delete(self.embeddings_name(model_key), sql_in("doc_id", stale))

    def vector_search(self, model_key: str, vector: Sequence[float], k: int) -> pd.DataFrame:
        """Top-k documents by cosine distance (vectors are normalised); columns doc_id, score."""
        table = self.table(self.embeddings_name(model_key))
        hits = table.search(list(map(float, vector))).metric("cosine").select(["doc_id"]).limit(k).to_pandas()
        return pd.DataFrame({"doc_id": hits["doc_id"], "score": 1.0 - hits["_distance"]})

    def ensure_fts_index(self) -> None:
        from lancedb.index import FTS

        table = self.table("documents")
        if table.count_rows() == 0:
            return
        with self._lock:
            table.create_index("text", config=FTS(with_position=False), replace=True)
            table.create_index("title", config=FTS(with_position=False), replace=True)

    def fts_search(self, text: str, k: int) -> pd.DataFrame:
        """Top-k documents by BM25 over title and text; columns doc_id, score."""
        table = self.table("documents")
        indexed = {index.columns[0] for index in table.list_indices() if index.index_type == "FTS"}
        if not indexed or not text.strip():
            return pd.DataFrame({"doc_id": [], "score": []})
        from lancedb.query import MatchQuery, MultiMatchQuery

        query = MultiMatchQuery(text, sorted(indexed)) if len(indexed) > 1 else MatchQuery(text, next(iter(indexed)))
        hits = table.search(query, query_type="fts").select(["doc_id"]).limit(k).to_pandas()
        return pd.DataFrame({"doc_id": hits["doc_id"], "score": hits["_score"]})
