"""Few-step runs of every kind on a tiny random BERT, end to end: states, progress, artifacts, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.evaluation import metrics
from core.search.models import Embedder
from core.storage.schemas import Judgment, Query, now
from core.training import jobs
from core.training import run as training
from core.training.config import TrainConfig
from core.training.cross_encoder import Reranker, choose_weight, fuse, fusion_note
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def run(store, settings, **config):
    job = training.launch(store, settings, TrainConfig(**config))
    assert job.wait(240) == "succeeded", jobs.read_run(store, job.run_id)["error"]
    return job, jobs.read_run(store, job.run_id)


def check_common(store, settings, row, stages=("before", "after")):
    progress = row["progress"]
    assert progress["step"] == progress["total"] > 0 and progress["history"] and progress["phase"] == "succeeded"
    assert row["pid"] > 0 and row["started_at"] is not None and row["finished_at"] is not None
    assert row["snapshot"]["train_pairs"] == 4 and row["snapshot"]["eval_queries"] == 4 and len(row["snapshot_hash"]) == 16
    for stage in stages:
        assert store.count("metrics", f"run_id = '{row['run_id']}' AND stage = '{stage}'") == 25
        assert store.count("query_results", f"run_id = '{row['run_id']}' AND stage = '{stage}'") == 4
    run_dir = settings.models_dir / row["run_id"]
    assert Path(row["model_path"]) == run_dir / "model"
    summary = json.loads((run_dir / "flywheel_run.json").read_text())
    assert summary["config"]["kind"] == row["kind"] and "recall@5" in summary["after"]
    assert (run_dir / "MODEL_CARD.md").exists() and not (run_dir / "checkpoints").exists()
    return run_dir


def test_bi_encoder_run_end_to_end(small_store, workspace, tiny):
    job, row = run(small_store, workspace, kind="bi-encoder", base_model=tiny, max_steps=3, batch_size=4)
    run_dir = check_common(small_store, workspace, row)
    assert (run_dir / "model" / "model.safetensors").exists() and (run_dir / "model" / "README.md").exists()
    assert row["config"]["max_steps"] == 3 and row["config"]["resolved_base_model"] == tiny
    assert job.result["training"]["steps"] == 3
    # Training read texts at a length fitted to them; the saved model reads whole documents again.
    from sentence_transformers import SentenceTransformer

    assert job.result["training"]["max_seq_length"] < SentenceTransformer(tiny).max_seq_length
    assert SentenceTransformer(str(run_dir / "model")).max_seq_length == SentenceTransformer(tiny).max_seq_length
    # It trained in this machine's precision (bf16 autocast where the CPU has it) and saved float32 weights.
    from core.training.precision import applied

    assert job.result["training"]["precision"] == applied("auto")
    assert {str(p.dtype) for p in SentenceTransformer(str(run_dir / "model")).parameters()} == {"torch.float32"}
    # A second run gets its own folder; nothing is overwritten.
    _, second = run(small_store, workspace, kind="bi-encoder", base_model=tiny, max_steps=1, batch_size=4)
    assert second["model_path"] != row["model_path"] and Path(row["model_path"]).exists()


def test_fitted_length_holds_most_texts_whole_within_the_limit(tiny):
    from sentence_transformers import SentenceTransformer

    from core.training.bi_encoder import MIN_SEQ_LENGTH, fitted_length

    tokenizer = SentenceTransformer(tiny).tokenizer
    texts = ["word " * 10] * 95 + ["word " * 400] * 5
    assert MIN_SEQ_LENGTH <= fitted_length(tokenizer, texts, 256) <= 48  # the 5 long ones do not set every batch's length
    assert fitted_length(tokenizer, ["word " * 400] * 10, 128) == 128


def test_defaults_validate_once_per_epoch_and_the_bi_encoder_reads_one_negative():
    from core.search.mining import NEGATIVES_PER_QUERY
    from core.training.callbacks import eval_steps

    config = TrainConfig(kind="bi-encoder").resolved()
    assert config.negatives_per_query == 1 and TrainConfig(kind="cross-encoder").resolved().negatives_per_query == NEGATIVES_PER_QUERY
    assert TrainConfig(kind="bi-encoder", negatives_per_query=0).resolved().negatives_per_query == 0  # a chosen 0 is kept
    assert eval_steps(config, 194) == 7  # ceil(194 / 32): one validation per epoch
    assert eval_steps(TrainConfig(kind="bi-encoder", eval_steps=2).resolved(), 194) == 2


def test_adapter_run_saves_a_loadable_adapter(small_store, workspace, tiny):
    job, row = run(small_store, workspace, kind="adapter", base_model=tiny, max_steps=5)
    run_dir = check_common(small_store, workspace, row)
    spec = json.loads((run_dir / "model" / "flywheel_adapter.json").read_text())
    assert spec["matrix"] == "adapter.npy" and spec["base_model"] == tiny
    adapted, base = Embedder(str(run_dir / "model")), Embedder(tiny)
    assert adapted.key == base.key  # corpus embeddings are reused, never recomputed
    assert not np.allclose(adapted.encode_queries(["gold hmo"]), base.encode_queries(["gold hmo"]))


def test_cross_encoder_before_is_the_retriever_ranking(small_store, workspace, tiny, monkeypatch):
    windows = []
    build = training.trainingdata.build
    monkeypatch.setattr(training.trainingdata, "build", lambda *a, **k: windows.append(k.get("rerank_depth")) or build(*a, **k))
    job, row = run(small_store, workspace, kind="cross-encoder", base_model=tiny, retriever=tiny, max_steps=3, batch_size=4)
    run_dir = check_common(small_store, workspace, row)
    spec = json.loads((run_dir / "model" / "flywheel_reranker.json").read_text())
    assert spec["retriever"] == tiny and 0.0 <= spec["weight"] <= 1.0
    assert windows == [20]  # negatives mined from the top 20 it re-ranks (trainingdata.reranker_negatives)
    assert row["progress"]["training"]["fusion_weight"] == spec["weight"] == job.result["training"]["fusion_weight"]
    ids = metrics.eval_query_ids(small_store)
    retriever = metrics.rank_with_model(small_store, Embedder(tiny), ids)
    stored = small_store.read("query_results", where=f"run_id = '{row['run_id']}' AND stage = 'before'")
    for qid, ranking in zip(stored["query_id"], stored["ranking"]):
        assert [d for d, _ in json.loads(ranking)] == [d for d, _ in retriever[qid]]


def test_cross_encoder_runs_are_reproducible(small_store, workspace, tiny):
    """Same data and seed, same model: the fresh head is seeded, not drawn from whatever the RNG holds."""
    from safetensors.numpy import load_file

    weights = []
    for _ in range(2):
        _, row = run(small_store, workspace, kind="cross-encoder", base_model=tiny, retriever=tiny, max_steps=2, batch_size=4)
        weights.append(load_file(str(Path(row["model_path"]) / "model.safetensors")))
    heads = [k for k in weights[0] if "classifier" in k]
    assert heads and all(np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_fusion_weight_never_loses_to_the_retriever_on_validation():
    qrels = {"q": {"a": 5}, "r": {"c": 5}}
    rankings = {"q": [("a", 0.9), ("b", 0.5)], "r": [("c", 0.8), ("d", 0.1)]}
    adversarial = {"q": np.array([0.0, 1.0]), "r": np.array([0.0, 1.0])}
    choice = choose_weight(rankings, adversarial, qrels)
    assert choice["weight"] == 0.0 and choice["grid"]["0.0"] == 1.0
    assert [d for d, _ in fuse([("a", 0.9), ("b", 0.5)], np.array([0.0, 1.0]), 1.0)] == ["b", "a"]


class _NeverPredicts:
    def predict(self, *args, **kwargs):
        raise AssertionError("a re-ranker at weight 0 scored pairs")


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_a_reranker_at_weight_zero_keeps_the_retriever_order_without_scoring(weight, small_store):
    """Validation gave the re-ranker no weight: the eval's re-ranking would only spend time (55 s of the demo's 262 s run)."""
    reranker = Reranker.__new__(Reranker)
    reranker.weight, reranker.spec, reranker.model = weight, {}, _NeverPredicts()
    rankings = {"q1": [("d1", 0.9), ("d2", 0.5), ("d3", 0.1)]}
    if weight:
        with pytest.raises(AssertionError, match="scored pairs"):
            reranker.rerank_all(small_store, rankings)
    else:
        assert [d for d, _ in reranker.rerank_all(small_store, rankings)["q1"]] == ["d1", "d2", "d3"]


def _validation(n: int, fixed: int):
    """n queries whose relevant document the retriever ranks second; the re-ranker fixes `fixed` of them."""
    qrels = {f"q{i}": {f"a{i}": 5} for i in range(n)}
    rankings = {f"q{i}": [(f"b{i}", 0.9), (f"a{i}", 0.8), (f"c{i}", 0.1)] for i in range(n)}
    scores = {f"q{i}": np.array([0.0, 1.0, 0.5]) if i < fixed else np.array([0.5, 0.0, 1.0]) for i in range(n)}
    return rankings, scores, qrels


def test_a_clearly_helpful_reranker_gets_weight():
    choice = choose_weight(*_validation(12, fixed=12))
    assert choice["weight"] == choice["best_weight"] > 0 and choice["p_value"] < 0.05
    assert choice["grid"][str(choice["weight"])] == 1.0 > choice["grid"]["0.0"]


def test_a_gain_on_a_few_queries_is_not_trusted():
    """Best on validation by a hair (2 of 12 queries better, the rest unchanged) is noise: weight 0."""
    rankings, scores, qrels = _validation(12, fixed=2)
    for i in range(2, 12):
        scores[f"q{i}"] = np.array([1.0, 0.0, 0.0])  # agrees with the retriever
    choice = choose_weight(rankings, scores, qrels)
    assert choice["best_weight"] > 0 and choice["grid"][str(choice["best_weight"])] > choice["grid"]["0.0"]
    assert choice["p_value"] >= 0.05 and choice["weight"] == 0.0


def _bigger_store(store):
    """30 train + 6 eval queries over the small documents, so a validation set exists."""
    stamp = now()
    docs = store.read("documents", columns=["doc_id", "title"])
    queries, judgments = [], []
    for i in range(36):
        doc, title = docs["doc_id"].iloc[i % len(docs)], docs["title"].iloc[i % len(docs)]
        qid = f"b{i}"
        queries.append(Query(query_id=qid, text=f"{title.lower()} question {i}", split="eval" if i >= 30 else "train", created_at=stamp))
        judgments.append(Judgment(query_id=qid, doc_id=doc, reviewer="import:b", grade=5, created_at=stamp, updated_at=stamp))
    store.add("queries", queries)
    store.add("judgments", judgments)


def test_validation_drives_early_stopping_and_progress_history(small_store, workspace, tiny):
    _bigger_store(small_store)
    _, row = run(small_store, workspace, kind="adapter", base_model=tiny, epochs=200, learning_rate=0.05, patience=2)
    assert row["snapshot"]["validation_queries"] == 5
    evals = [h for h in row["progress"]["history"] if "eval_ndcg@10" in h]
    assert evals and row["progress"]["eval"]["ndcg@10"] >= 0
    assert row["progress"]["step"] < 200 * 5  # stopped early, well before 200 epochs
    info = json.loads((workspace.models_dir / row["run_id"] / "flywheel_run.json").read_text())["training"]
    assert info["best_validation_ndcg@10"] >= max(h["eval_ndcg@10"] for h in evals) - 1e-4


def test_bad_config_is_refused_before_a_run_exists(small_store, workspace):
    with pytest.raises(InputError, match="epochs"):
        training.launch(small_store, workspace, TrainConfig(epochs=-1))
    with pytest.raises(InputError, match="kind"):
        training.launch(small_store, workspace, TrainConfig(kind="gpt"))
    for bad, message in [({"epochs": 1e9}, "epochs to be a positive number up to 1000"),
                         ({"epochs": float("inf")}, "epochs to be a finite number, but got inf"),
                         ({"epochs": float("nan")}, "epochs to be a finite number"),
                         ({"time_budget_s": -5.0}, "time_budget_s to be 0 .no budget. to 604,800 seconds"),
                         ({"max_steps": 2.5}, "max_steps to be a finite whole number"),
                         ({"batch_size": True}, "batch_size to be a finite whole number")]:
        with pytest.raises(InputError, match=message):
            training.launch(small_store, workspace, TrainConfig(**bad))
    assert small_store.count("runs") == 0


def test_fusion_note_explains_the_chosen_weight():
    zero = fusion_note({"fusion_weight": 0.0, "retriever_validation_ndcg@10": 0.587, "fused_validation_ndcg@10": 0.587})
    assert "did not clearly beat the retriever" in zero and "nothing beat the retriever alone (nDCG@10 0.587)" in zero
    noise = fusion_note({"fusion_weight": 0.0, "retriever_validation_ndcg@10": 0.33, "fused_validation_ndcg@10": 0.33,
                         "best_weight": 0.3, "best_validation_ndcg@10_fused": 0.361, "fusion_p_value": 0.21})
    assert "weight 0.3, nDCG@10 0.330 → 0.361) was not a significant gain (p = 0.21)" in noise
    alone = fusion_note({"fusion_weight": 0.0, "retriever_validation_ndcg@10": 0.675, "fused_validation_ndcg@10": 0.675,
                         "reranker_validation_ndcg@10": 0.368})
    assert "the re-ranker alone scored 0.368" in alone
    some = fusion_note({"fusion_weight": 0.3, "retriever_validation_ndcg@10": 0.6, "fused_validation_ndcg@10": 0.65})
    assert "weight 0.3" in some and "0.600 (retriever alone) → 0.650 (fused)" in some
    assert "no validation queries" in fusion_note({"fusion_weight": 0.5})


def test_cross_encoder_lambda_loss_trains_on_graded_lists(small_store, workspace, tiny):
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder.losses import LambdaLoss

    from core.training import data as trainingdata
    from core.training.cross_encoder import training_set

    config = TrainConfig(kind="cross-encoder", cross_encoder_loss="lambda", batch_size=4).resolved()
    data = trainingdata.build(small_store, negatives_per_query=2, validation_fraction=0)
    dataset, loss, trained = training_set(CrossEncoder(tiny, num_labels=1), config, data)
    assert isinstance(loss, LambdaLoss) and dataset.column_names == ["query", "docs", "labels"]
    mean = sum(len(d) for d in dataset["docs"]) / len(dataset)
    assert trained.batch_size == max(1, round(4 / mean))  # about batch_size pairs a step, as with "bce"
    job, row = run(small_store, workspace, kind="cross-encoder", base_model=tiny, retriever=tiny, max_steps=2, batch_size=4,
                   cross_encoder_loss="lambda")
    info = job.result["training"]
    assert info["loss"] == "lambda" and info["steps"] == 2 and info["rows"] == len(dataset) and np.isfinite(info["train_loss"])
    assert row["config"]["cross_encoder_loss"] == "lambda"
    with pytest.raises(InputError, match="cross_encoder_loss"):
        TrainConfig(kind="cross-encoder", cross_encoder_loss="listnet").resolved()
