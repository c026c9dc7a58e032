"""The re-ranker's warm start: synthetic queries for the corpus, the retriever's scores as
targets (from the cached corpus embeddings), and a model that moves towards them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.search.models import Embedder
from core.storage.schemas import Run, now
from core.training import jobs, warm_start
from core.training.config import TrainConfig
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_distillation_rows_are_the_retrievers_top_k_with_its_scores(small_store, tiny):
    retriever = Embedder(tiny)
    rows = warm_start.distillation_rows(small_store, retriever, queries=5, depth=3)
    assert len(rows["query"]) == 15 and len(set(rows["query"])) == 5
    vectors = retriever.encode_queries(rows["query"][:1]), retriever.encode_documents(rows["document"][:3])
    assert np.allclose(vectors[0] @ vectors[1].T, rows["label"][:3], atol=1e-4)  # the retriever's own cosines, best first
    assert rows["label"][:3] == sorted(rows["label"][:3], reverse=True)


def test_warm_start_moves_the_fresh_head_towards_the_retriever(small_store, workspace, tiny, tmp_path):
    from sentence_transformers import CrossEncoder

    retriever = Embedder(tiny)
    rows = warm_start.distillation_rows(small_store, retriever, queries=12)
    model = CrossEncoder(tiny, num_labels=1, max_length=64)
    pairs = list(zip(rows["query"], rows["document"]))

    def error() -> float:
        return float(np.mean((model.predict(pairs, activation_fn=None, show_progress_bar=False) - np.array(rows["label"])) ** 2))

    before = error()
    small_store.add("runs", [Run(run_id="r1", kind="cross-encoder", base_model="tiny", created_at=now())])
    reporter = jobs.Reporter(small_store, "r1", threading.Event())
    config = TrainConfig(kind="cross-encoder", learning_rate=1e-3, batch_size=8).resolved()
    info = warm_start.warm_start(model, small_store, retriever, config, tmp_path / "ck", reporter)
    assert info["warm_start_pairs"] == len(pairs) and error() < before  # seeded: the same data moves it the same way
    assert reporter.state["phase"] == warm_start.PHASE and reporter.state["work"]["unit"] == "steps"


def test_pretraining_pairs_each_synthetic_query_with_its_source_and_never_a_held_out_text(small_store, tiny, monkeypatch):
    """Stored synthetic queries first, then offline ones; the source document is the one positive;
    an eval query's or a validation query's text is never trained on."""
    from core.storage.schemas import Query
    from core.storage.splits import normalise

    monkeypatch.setattr(warm_start, "PRETRAIN_WINDOW", 3)  # 12 documents: leave some outside the window to draw at random

    stamp = now()
    small_store.add("queries", [
        Query(query_id="s1", text="hsa contributions tax free", origin="synthetic", source_doc_id="d10", split="train", created_at=stamp),
        Query(query_id="s2", text="what is an HSA", origin="synthetic", source_doc_id="d10", split="train", created_at=stamp),  # = eval q5
        Query(query_id="s3", text="fsa limit 2025", origin="synthetic", source_doc_id="d11", split="train", created_at=stamp),
    ])
    held_out = warm_start.held_out_texts(small_store, ["s3"])
    assert {normalise("what is an HSA"), normalise("fsa limit 2025"), normalise("gold hmo deductible")} <= held_out
    queries = warm_start.synthetic_queries(small_store, held_out, count=8)
    assert queries[0] == ("hsa contributions tax free", "d10") and len(queries) == 8
    assert not {normalise(t) for t, _ in queries} & held_out
    rows = warm_start.pretrain_rows(small_store, Embedder(tiny), queries)
    docs = small_store.document_texts()
    per_query = 1 + warm_start.PRETRAIN_MINED + warm_start.PRETRAIN_RANDOM
    assert len(rows["query"]) == per_query * len(queries)
    for i, (text, source) in enumerate(queries):
        chunk = slice(i * per_query, (i + 1) * per_query)
        assert rows["query"][chunk] == [text] * per_query and rows["label"][chunk] == [1.0] + [0.0] * (per_query - 1)
        assert rows["document"][chunk][0] == docs[source] and docs[source] not in rows["document"][chunk][1:]
        assert len(set(rows["document"][chunk])) == per_query
