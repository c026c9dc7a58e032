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
