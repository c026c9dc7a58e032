"""Scale paths: the automatic vector index, the unchanged-corpus shortcut, the training thread cap."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from core.search.retrieval import ensure_corpus_embeddings, search
from core.storage.schemas import Document
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
