"""Progress of every phase (a name, a count that moves, an honest ETA), cancel between two
batches of any phase, and the fusion weight chosen on validation pairs scored once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.evaluation import metrics
from core.search.models import Embedder
from core.storage.schemas import Document, Run, now
from core.training import jobs
from core.training.cross_encoder import WEIGHTS, choose_fusion
from core.training.data import TrainingData
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def reporter_for(store) -> jobs.Reporter:
    store.add("runs", [Run(run_id="r1", kind="bi-encoder", base_model="tiny", created_at=now())])
    return jobs.Reporter(store, "r1", threading.Event())


def test_eta_is_never_zero_while_work_remains():
    assert jobs.eta(5.0, 0, 10) is None  # nothing done yet: estimating
    assert jobs.eta(5.0, 5, 10) == 5.0
    assert jobs.eta(0.001, 9, 10) == 1.0  # almost done is still not "0 s"
    assert jobs.eta(5.0, 10, 10) is None  # count full but the phase goes on


def test_a_phase_reports_a_moving_count_and_the_row_shows_it(store):
    reporter = reporter_for(store)
    report = reporter.progress("embedding the corpus", "documents")
    report(64, 200)
    assert reporter.state["phase"] == "embedding the corpus"
    assert reporter.state["work"]["done"] == 64 and reporter.state["work"]["total"] == 200 and reporter.state["work"]["unit"] == "documents"
    assert jobs.read_run(store, "r1")["progress"]["phase"] == "embedding the corpus"  # the phase start is written at once
    reporter.update(1, 10, loss=0.5)  # the trainer's steps start the training phase
    assert reporter.state["phase"] == "training" and reporter.state["step"] == 1


def test_cancel_stops_corpus_embedding_between_batches(store, tiny):
    store.add("documents", [Document(doc_id=f"d{i}", text=f"document number {i} about topic {i % 7}") for i in range(300)])
    reporter = reporter_for(store)
    calls = []

    def progress(done, total):
        calls.append(done)
        reporter.cancel.set()  # the user pressed Cancel while the first batch was embedded
        reporter.work(done, total)

    started = time.monotonic()
    with pytest.raises(jobs.Cancelled):
        metrics.rank_with_model(store, Embedder(tiny), ["q"], progress=progress)
    assert len(calls) == 1 and calls[0] < 300 and time.monotonic() - started < 30  # stopped after the first chunk
    assert store.count(store.embeddings_name(Embedder(tiny).key)) == 0  # nothing half-written


class CountingModel:
    """Stands in for a CrossEncoder: scores by word overlap and counts every pair it scores."""

    def __init__(self):
        self.scored: list[tuple[str, str]] = []

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        self.scored.extend(pairs)
        return np.array([len(set(q.split()) & set(d.split())) for q, d in pairs], dtype=float)


def test_fusion_scores_each_validation_pair_once_and_reuses_it_across_the_grid(store):
    docs = {f"d{i}": f"plan {i} deductible {'gold' if i % 2 else 'silver'} words{i}" for i in range(20)}
    queries = {f"q{i}": f"gold plan {i}" for i in range(8)}
    rankings = {q: [(d, 1.0 - n / 20) for n, d in enumerate(sorted(docs))] for q in queries}
    validation = {q: {f"d{i}": 5} for i, q in enumerate(queries)}
    data = TrainingData(query_text=queries, doc_text=docs, positives={}, negatives={}, negative_source={}, grades={}, validation=validation)
    model = CountingModel()
    reporter = reporter_for(store)
    choice = choose_fusion(model, rankings, data, reporter)
    pairs = [(queries[q], docs[d]) for q, r in rankings.items() for d, _ in r]
    assert sorted(model.scored) == sorted(pairs)  # every pair once, none twice, whatever the grid size
    assert len(choice["grid"]) == len(WEIGHTS) == 11
    assert reporter.state["phase"].startswith("choosing the fusion weight") and reporter.state["work"]["done"] == len(WEIGHTS)


def test_each_phase_adds_its_seconds_to_the_runs_timings(store, monkeypatch):
    reporter = reporter_for(store)
    clock = iter([103.5, 104.0, 110.0])
    monkeypatch.setattr(jobs.time, "monotonic", lambda: next(clock))
    reporter.phase_started = 100.0
    reporter.state["phase"] = "embedding the corpus"
    reporter.close_phase()  # 3.5 s of embedding
    reporter.state["phase"] = "training"
    reporter.close_phase()  # 0.5 s of training
    reporter.state["phase"] = "embedding the corpus"
    reporter.close_phase()  # the same phase again later: 6 s more
    assert reporter.state["timings"] == {"embedding the corpus": 9.5, "training": 0.5}


def test_a_runs_listener_hears_each_phase_its_count_and_the_loss_as_they_happen(store):
    reporter = reporter_for(store)
    heard = []
    reporter.listener = lambda done, total, phase="", note="": heard.append((done, total, phase, note))
    reporter.phase("loading model")
    report = reporter.progress("embedding the corpus", "documents")
    report(64, 200)
    report(128, 200)  # within a second of the last: the row's write is throttled, the listener is not
    reporter.update(1, 10, loss=0.5)
    reporter.update(2, 10, evaluation={"ndcg@10": 0.25})
    assert heard[0] == (0, 0, "loading model", "")
    assert (64, 200, "embedding the corpus", "") in heard and (128, 200, "embedding the corpus", "") in heard
    assert (1, 10, "training", "loss 0.5") in heard
    assert heard[-1] == (2, 10, "training", "loss 0.5, validation ndcg@10 0.250")


def test_the_apps_bar_is_a_progress_with_or_without_a_with_block():
    from ui.progress import progress_bar

    update = progress_bar("Embedding logged queries")  # how the Logs page passes it: the old context manager raised TypeError here
    update(1, 2)
    update(2, 2, "writing queries", "a title")
    with progress_bar("Embedding documents") as update:
        update(3, 4)
