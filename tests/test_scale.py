"""Scale paths: the automatic vector index, the unchanged-corpus shortcut, the training thread cap."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from core.labeling import grading
from core.search.retrieval import ensure_corpus_embeddings, search
from core.storage.schemas import Document, Event, Judgment, now
from core.storage.store import SCALAR_INDEXES, Store
from core.training import jobs


def test_a_vector_index_is_built_above_the_threshold_and_search_still_finds_the_nearest(store):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.ensure_embeddings("m", 16)
    store.write_embeddings("m", [{"doc_id": f"d{i}", "text_hash": "h", "vector": v} for i, v in enumerate(vectors)])
    assert store.vector_index("m") is None  # 600 rows: below the default threshold, exact search
    assert store.ensure_vector_index("m", above=500)
    assert store.vector_index("m") == "IvfHnswSq"
    assert not store.ensure_vector_index("m", above=500)  # built once
    hits = store.vector_search("m", vectors[42], 5)
    assert hits["doc_id"].iloc[0] == "d42" and hits["score"].iloc[0] > 0.99


def test_scalar_indexes_come_above_the_threshold_and_reads_still_see_rows_written_after(store):
    stamp = now()
    store.add("judgments", [Judgment(query_id=f"q{i % 50}", doc_id=f"d{i}", reviewer=f"r{i % 3}", grade=i % 6, created_at=stamp, updated_at=stamp)
                            for i in range(300)])
    assert store.ensure_scalar_indexes("judgments") == [] and not store.scalar_indexes("judgments")  # 300 rows: scans are cheap
    assert store.ensure_scalar_indexes("judgments", above=200) == list(SCALAR_INDEXES["judgments"])
    assert store.scalar_indexes("judgments") == set(SCALAR_INDEXES["judgments"])
    assert store.ensure_scalar_indexes("judgments", above=200) == []  # built once
    grading.grade(store, "ann", "q7", "d7", 5)  # after the index: scanned beside it until compaction
    mine = grading.judgments_for(store, "q7", "ann")
    assert list(mine["doc_id"]) == ["d7"] and len(grading.judgments_for(store, "q7")) == 7
    store.compact("judgments")
    table = store.table("judgments")
    assert all(table.index_stats(i.name).num_unindexed_rows == 0 for i in table.list_indices())
    assert len(grading.judgments_for(store, "q7")) == 7


def test_opening_a_big_workspace_indexes_its_events(workspace, monkeypatch):
    store = Store(workspace.db_uri)
    store.add("events", [Event(event_id=str(i), at=now(), actor=f"r{i % 4}", action="grade", target="t") for i in range(120)])
    assert not store.scalar_indexes("events")
    monkeypatch.setattr("core.storage.store.SCALAR_INDEX_ABOVE", 100)
    reopened = Store(workspace.db_uri)
    assert reopened.scalar_indexes("events") == {"actor", "action"}
    assert reopened.count("events", "actor = 'r1' AND action = 'grade'") == 30


def test_the_app_server_lets_idle_openmp_threads_sleep_unless_told_otherwise():
    from ui.launch import server_environment

    assert server_environment({})["OMP_WAIT_POLICY"] == "PASSIVE"
    assert server_environment({"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"


def test_an_unchanged_corpus_is_not_read_again_but_an_edit_is_embedded(small_store, embedder, monkeypatch):
    embedder.current.clear()
    ensure_corpus_embeddings(small_store, embedder)
    reads: list[str] = []
    original = small_store.read
    monkeypatch.setattr(small_store, "read", lambda name, *a, **k: reads.append(name) or original(name, *a, **k))
    assert ensure_corpus_embeddings(small_store, embedder) == 0
    search(small_store, embedder, "anything", 3, "vector")
    assert "documents" not in reads[:-1]  # only the final join of the hits' titles reads documents
    doc = original("documents", limit=1).iloc[0]
    small_store.upsert("documents", [Document(doc_id=doc["doc_id"], title=doc["title"], text=doc["text"] + " edited")])
    assert ensure_corpus_embeddings(small_store, embedder) == 1


def test_a_run_beside_the_app_caps_torch_threads_and_gives_them_back(store, workspace):
    seen: list[int] = []

    def body(store, settings, run_id, config, reporter):
        seen.append(torch.get_num_threads())
        return {}

    settings = dataclasses.replace(workspace, train_threads=1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        job = jobs.Job.create(store, settings, "adapter", "m", {}, body).start()
        job.wait(30)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert jobs.train_threads(dataclasses.replace(workspace, train_threads=0)) == max(1, (__import__("os").cpu_count() or 1) - 1)
