"""Readers never see an import half-written."""

from __future__ import annotations

from core.storage.operations import operation
from core.storage.schemas import Document, Judgment, now
from core.storage.store import Store
from tests.conftest import fill_small


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
