"""A cancel ends a run within 5 s in the phases the libraries run as one call: mining hard
negatives (sentence-transformers' mine_hard_negatives), the trainer's own validation pass, and a
training step (forward and backward).

Every inference batch of the tiny model is slowed to SLOW_S, as a real model on a loaded CPU
is, so each phase outlasts the 5 s target unless the run checks for a cancel between batches;
each test asserts that arithmetic, then measures from the request to the `cancelled` row.
"""

from __future__ import annotations

import math
import time

import pytest
from sentence_transformers import SentenceTransformer

from core.storage.schemas import Document, Judgment, Query, now
from core.training import jobs
from core.training import run as training
from core.training.config import TrainConfig
from tests.tiny_model import build_tiny_model

SLOW_S = 0.6
TARGET_S = 5.0
BATCH = 64  # the batch size both the miner and the validation evaluator encode with


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def slow_inference(monkeypatch) -> list[float]:
    """Each inference (not training) forward pass sleeps SLOW_S; returns when each one started."""
    started: list[float] = []
    forward = SentenceTransformer.forward

    def slow(self, *args, **kwargs):
        if not self.training:
            started.append(time.monotonic())
            time.sleep(SLOW_S)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "forward", slow)
    return started


def fill(store, docs: int, queries: int) -> None:
    """`docs` documents; 4 eval queries and `queries` train queries, each with one positive."""
    stamp = now()
    store.add("documents", [Document(doc_id=f"d{i}", text=f"document {i} on plan {i % 13} and topic {i % 7}") for i in range(docs)])
    rows = [(f"e{i}", f"eval question {i} on plan {i}", "eval") for i in range(4)]
    rows += [(f"t{i}", f"train question {i} on plan {i % 13} topic {i % 7}", "train") for i in range(queries)]
    store.add("queries", [Query(query_id=q, text=t, split=s, source="test", created_at=stamp) for q, t, s in rows])
    store.add("judgments", [Judgment(query_id=q, doc_id=f"d{n % docs}", reviewer="import:test", grade=5, created_at=stamp, updated_at=stamp)
                            for n, (q, _, _) in enumerate(rows)])


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def cancel_and_time(job: jobs.Job) -> tuple[str, float]:
    """Cancel as the Train page does; seconds from the request until the run's row says it ended."""
    requested = time.monotonic()
    job.cancel()
    status = job.wait(60)
    return status, time.monotonic() - requested


def test_a_cancel_stops_mining_hard_negatives_within_5_s(store, workspace, tiny, slow_inference):
    fill(store, docs=13, queries=1500)
    job = training.launch(store, workspace, TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=2, batch_size=4, mine=True))
    assert wait_for(lambda: job.reporter.state["phase"] == training.MINING_PHASE, timeout=180)
    work = dict(job.reporter.state["work"])
    assert math.ceil((work["total"] - work["done"]) / BATCH) * SLOW_S > TARGET_S  # what is left would outlast the target
    status, seconds = cancel_and_time(job)
    assert status == "cancelled" and seconds < TARGET_S, (status, seconds)
    assert job.reporter.state["work"]["done"] < work["total"]  # it stopped between two chunks of queries
    assert store.count("metrics", f"run_id = '{job.run_id}'") == 0


def test_a_cancel_stops_the_trainers_validation_pass_within_5_s(store, workspace, tiny, slow_inference):
    fill(store, docs=600, queries=120)  # 18 validation queries over a 500-document validation corpus
    config = TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=1000, batch_size=4, eval_steps=1, mine=False)
    job = training.launch(store, workspace, config)
    assert wait_for(lambda: job.reporter.state["phase"] == "training", timeout=180)
    before_training = len(slow_inference)  # the corpus and "before" are embedded; the next inference batch is validation's
    assert wait_for(lambda: len(slow_inference) > before_training, timeout=120)
    assert (math.ceil(500 / BATCH) + 1) * SLOW_S > TARGET_S  # one validation pass would outlast the target
    status, seconds = cancel_and_time(job)
    assert status == "cancelled" and seconds < TARGET_S, (status, seconds)
    assert len(slow_inference) - before_training < math.ceil(500 / BATCH)  # stopped inside the pass, between two batches
    assert jobs.read_run(store, job.run_id)["progress"]["step"] <= 2


@pytest.mark.parametrize("slow_part", ["forward", "backward"])
def test_a_cancel_stops_a_long_training_step_within_5_s(store, workspace, tiny, monkeypatch, slow_part):
    """A training step on real data outlasts the target (CISI in the app's server: about 15 s a
    step); each text column's training forward, or its backward, is slowed to 2.5 s here,
    so a step of three columns takes 7.5 s, and a cancel must land inside it."""
    step_part_s, started = 2.5, []
    forward = SentenceTransformer.forward

    def slow(self, *args, **kwargs):
        output = forward(self, *args, **kwargs)
        if self.training:
            started.append(time.monotonic())
            if slow_part == "forward":
                time.sleep(step_part_s)
            else:  # sleep when backward reaches this column's embedding, before the layers under it
                embedding = output["sentence_embedding"]
                embedding.register_hook(lambda grad: time.sleep(step_part_s))
        return output

    monkeypatch.setattr(SentenceTransformer, "forward", slow)
    assert 3 * step_part_s > TARGET_S  # one step would outlast the target
    fill(store, docs=40, queries=60)
    config = TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=1000, batch_size=4, negatives_per_query=1, mine=False,
                         validation_fraction=0.0)
    job = training.launch(store, workspace, config)
    assert wait_for(lambda: len(started) >= (1 if slow_part == "forward" else 3), timeout=180)  # inside the first step
    status, seconds = cancel_and_time(job)
    assert status == "cancelled" and seconds < step_part_s + 1.5, (status, seconds)  # within the part it was in, not the step
    assert jobs.read_run(store, job.run_id)["progress"]["step"] <= 1
