"""The learning-to-rank stage on top of the fused retriever: zero trees are the retriever, it is kept
only on a validation gain, it is served from pipeline.json as measured, and eval queries never reach it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from core.search.fusion import Candidates
from core.training import ltr

DOCS = 10


def synthetic(prefix: str, queries: int, relevant_at: int) -> tuple[dict, dict, dict, dict]:
    """Queries whose one relevant document sits at `relevant_at` of a fused first stage and is the
    only one containing the query's word: term overlap finds it, the fused score does not."""
    first, candidates, query_text, qrels = {}, {}, {}, {}
    doc_text = {}
    for i in range(queries):
        q = f"{prefix}{i}"
        docs = [f"{q}-d{j}" for j in range(DOCS)]
        fused = np.linspace(1.0, 0.1, DOCS)
        first[q] = [(d, float(s)) for d, s in zip(docs, fused)]
        candidates[q] = Candidates(docs, fused.copy(), np.zeros(DOCS))
        query_text[q] = f"keyword{prefix}{i}"
        for j, d in enumerate(docs):
            doc_text[d] = f"common filler text number {j}" + (f" keyword{prefix}{i}" if j == relevant_at else "")
        qrels[q] = {docs[relevant_at]: 1}
    return first, candidates, query_text | {"__docs__": doc_text}, qrels


def lists(data) -> dict[str, ltr.QueryList]:
    first, candidates, texts, _ = data
    return ltr.build_lists(first, candidates, texts, texts["__docs__"])


@pytest.fixture(scope="module")
def trained() -> ltr.LtrStage:
    train = synthetic("t", 40, 4)
    validation = synthetic("v", 20, 4)
    stage = ltr.fit_booster(lists(train), train[3], lists(validation), validation[3], ltr.BASE_FEATURES)
    assert stage.trees > 0
    return stage


def test_zero_trees_is_the_first_stage_exactly(trained, small_store, embedder):
    """Same documents, same order (ties included) and same scores for every query: with no tree
    the stage is its first stage, even holding a booster (LightGBM reads num_iteration 0 as 'all')."""
    texts = small_store.query_texts()
    first, candidates = ltr.first_stage(small_store, embedder, texts, 0.5, 20)
    tied = Candidates(["a", "b", "c"], np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.5]))  # fused: a, b and c tie
    first["tie"], candidates["tie"], texts["tie"] = tied.ranking(0.5, 3), tied, "tie"
    assert [d for d, _ in first["tie"]] == ["b", "c", "a"]  # the first stage breaks the tie by the dense score
    built = ltr.build_lists(first, candidates, texts, small_store.document_texts() | {"a": "", "b": "", "c": ""})
    for stage in (ltr.LtrStage(), replace(trained, trees=0)):
        assert stage.rerank(built) == {q: list(r) for q, r in first.items()}
        assert stage.rerank_first(small_store, first, candidates, texts, 5) == first
    assert trained.rerank(built) != {q: list(r) for q, r in first.items()}  # the trees do move documents


def test_kept_only_when_it_beats_its_first_stage_on_validation(trained):
    """Trained the same way, the stage is kept where validation queries gain from it and dropped
    where the first stage already ranks their relevant document first, or where there is no validation."""
    for relevant_at, kept in ((4, ltr.LEXICAL), (0, None)):
        validation = synthetic("v", 20, relevant_at)
        stage, report = ltr.choose(validation[0], {ltr.LEXICAL: (trained, lists(validation))}, validation[3], 1)
        assert report["kept"] == kept and report["variants"][ltr.LEXICAL]["trees"] == trained.trees
        assert (stage.trees > 0) == (kept is not None)
        if kept:
            assert report["variants"][ltr.LEXICAL]["gain"] > 0.3 and report["variants"][ltr.LEXICAL]["p"] < 0.05
    stage, report = ltr.choose({}, {ltr.LEXICAL: (trained, {})}, {}, 1)
    assert stage.trees == 0 and report["kept"] is None


def test_a_richer_variant_must_beat_the_simpler_one():
    """Two variants that both beat the first stage equally: the first (without the cross-encoder) stays."""
    train, validation = synthetic("t", 40, 4), synthetic("v", 20, 4)
    stage = ltr.fit_booster(lists(train), train[3], lists(validation), validation[3], ltr.BASE_FEATURES)
    same = replace(stage)
    kept, report = ltr.choose(validation[0], {ltr.LEXICAL: (stage, lists(validation)), ltr.WITH_CROSS_ENCODER: (same, lists(validation))},
                              validation[3], 1)
    assert report["kept"] == ltr.LEXICAL and kept is stage


def test_features_are_per_query(small_store, embedder):
    """A query's features are the same whether other queries are built beside it or not."""
    texts = small_store.query_texts()
    first, candidates = ltr.first_stage(small_store, embedder, texts, 0.5, 20)
    docs = small_store.document_texts()
    together = ltr.build_lists(first, candidates, texts, docs)
    alone = ltr.build_lists({"q1": first["q1"]}, candidates, texts, docs)
    assert all(np.array_equal(together["q1"].columns[n], alone["q1"].columns[n]) for n in ltr.BASE_FEATURES)
    assert json.dumps(together["q1"].ranking) == json.dumps(first["q1"])


def test_pipeline_json_serves_the_stage_as_it_was_measured(trained, small_store, embedder, tmp_path):
    from core.training.pipeline import PipelineSpec, load_pipeline

    trained.save(tmp_path / ltr.LTR_FILE)
    PipelineSpec(["bm25", "dense", "rerank"], fusion_weight=0.5, rerank_depth=20, ltr=ltr.LTR_FILE, workspace=small_store.uri).save(tmp_path)
    pipeline = load_pipeline(tmp_path)
    assert pipeline.ltr.trees == trained.trees and pipeline.ltr.features == ltr.BASE_FEATURES and pipeline.cross_encoder is None
    assert "learning-to-rank" in pipeline.spec.describe()
    texts = small_store.query_texts()
    first, candidates = ltr.first_stage(small_store, embedder, texts, 0.5, 20)
    measured = trained.rerank_first(small_store, first, candidates, texts, 20)
    served = pipeline.rank(texts, 10)
    for q in texts:
        assert [d for d, _ in served[q]] == [d for d, _ in measured[q][:10]]
        assert np.allclose([s for _, s in served[q]], [s for _, s in measured[q][:10]])
    assert any(not np.allclose([s for _, s in served[q]], [s for _, s in first[q][:10]]) for q in texts)  # the trees applied
    hits = pipeline.search(texts["q1"], 3)
    assert [h["doc_id"] for h in hits] == [d for d, _ in measured["q1"][:3]]


MORE_TRAIN = [("q9", "silver ppo 2026 deductible", [("d2", 5), ("d1", 0)]), ("q10", "physician assistant copay", [("d5", 5), ("d4", 0)]),
              ("q11", "submit a claim online", [("d6", 5), ("d7", 0)]), ("q12", "remove a dependent after divorce", [("d9", 5), ("d8", 0)]),
              ("q13", "fsa limit", [("d11", 5), ("d10", 0)]), ("q14", "gold hmo 2025 plan", [("d3", 5), ("d1", 0)]),
              ("q15", "emergency room copay", [("d12", 5)]), ("q16", "hsa tax free contributions", [("d10", 5), ("d11", 0)])]


def test_a_cross_encoder_run_fits_the_stage_on_train_and_validation_queries_only(small_store, workspace, tmp_path, monkeypatch):
    """12 train queries (5 of them validation), 4 eval ones: the trees and the keep decision see no eval query,
    and the run's re-ranking rung is the stage, or exactly its first stage when none was kept."""
    from core.evaluation import metrics
    from core.storage.schemas import Judgment, Query, now
    from core.training import jobs
    from core.training import run as training
    from core.training.config import TrainConfig
    from tests.tiny_model import build_tiny_model

    stamp = now()
    small_store.add("queries", [Query(query_id=q, text=t, split="train", source="small", created_at=stamp) for q, t, _ in MORE_TRAIN])
    small_store.add("judgments", [Judgment(query_id=q, doc_id=d, reviewer="import:small", grade=g, created_at=stamp, updated_at=stamp)
                                  for q, _, grades in MORE_TRAIN for d, g in grades])
    seen: dict[str, set[str]] = {"first_stage": set(), "train": set(), "validation": set(), "choose": set()}
    first_stage, fit_booster, choose = ltr.first_stage, ltr.fit_booster, ltr.choose

    def record_first(store, embedder, texts, *a, **k):
        seen["first_stage"] |= set(texts)
        return first_stage(store, embedder, texts, *a, **k)

    def record_fit(train, train_qrels, validation, validation_qrels, *a, **k):
        seen["train"] |= set(train) | set(train_qrels)
        seen["validation"] |= set(validation) | set(validation_qrels)
        return fit_booster(train, train_qrels, validation, validation_qrels, *a, **k)

    def record_choose(first, variants, qrels, *a, **k):
        seen["choose"] |= set(first) | set(qrels) | {q for _, lists in variants.values() for q in lists}
        return choose(first, variants, qrels, *a, **k)

    monkeypatch.setattr(ltr, "first_stage", record_first)
    monkeypatch.setattr(ltr, "fit_booster", record_fit)
    monkeypatch.setattr(ltr, "choose", record_choose)
    tiny = build_tiny_model(tmp_path / "tiny")
    job = training.launch(small_store, workspace, TrainConfig(kind="cross-encoder", base_model=tiny, retriever=tiny, max_steps=2, batch_size=4,
                                                              validation_fraction=0.45))
    assert job.wait(240) == "succeeded", jobs.read_run(small_store, job.run_id)["error"]
    eval_ids = set(metrics.eval_query_ids(small_store))
    assert len(seen["validation"]) == 5 and len(seen["train"]) == 7 and seen["choose"] == seen["validation"]
    assert seen["first_stage"] == seen["train"] and not (seen["train"] | seen["validation"]) & eval_ids
    report = job.result["training"]["ltr"]
    assert set(report["variants"]) == {ltr.LEXICAL, ltr.WITH_CROSS_ENCODER} and report["queries"] == 5
    run_dir = workspace.models_dir / job.run_id
    spec = json.loads((run_dir / "pipeline.json").read_text())
    stored = {stage: dict(zip(rows["query_id"], rows["ranking"])) for stage in ("hybrid", "rerank")
              for rows in [small_store.read("query_results", where=f"run_id = '{job.run_id}' AND stage = '{stage}'")]}
    if report["kept"] is None:
        assert spec["ltr"] == "" and not (run_dir / ltr.LTR_FILE).exists()
        assert {q: [d for d, _ in json.loads(r)] for q, r in stored["rerank"].items()} == \
               {q: [d for d, _ in json.loads(r)] for q, r in stored["hybrid"].items()}
    else:
        assert spec["ltr"] == ltr.LTR_FILE and ltr.LtrStage.load(run_dir / ltr.LTR_FILE).trees > 0


def test_without_validation_queries_nothing_is_fitted_or_scored():
    """No validation query to stop on or judge by: the first stage, at no cost (no first stage of
    the train queries, no cross-encoder logits)."""
    from core.training.data import TrainingData

    data = TrainingData({"t": "x"}, {}, {"t": ["d"]}, {}, {}, {"t": {"d": 5}}, {})
    stage, report = ltr.fit_for_run(None, data, None, None, 0.5, 20, {}, {}, cross_encoder=object())
    assert stage.trees == 0 and report["kept"] is None and report["queries"] == 0


def test_the_run_note_says_which_stage_ships():
    from core.training.cross_encoder import fusion_note

    zero = {"fusion_weight": 0.0, "retriever_validation_ndcg@10": 0.675, "fused_validation_ndcg@10": 0.675}
    kept = {"first_stage": 0.675, "kept": ltr.LEXICAL, "variants": {ltr.LEXICAL: {"trees": 12, "ndcg@10": 0.71, "p": 0.004}}}
    text = fusion_note(zero | {"ltr": kept})
    assert "ships the re-ranking stage ltr" in text and "0.675 → 0.710 (one-sided p = 0.004)" in text
    assert "held-out results equal the retriever's" not in text  # they do not: the stage ships
    dropped = {"first_stage": 0.675, "kept": None, "variants": {ltr.LEXICAL: {"trees": 3, "ndcg@10": 0.68, "p": 0.3}}}
    assert "ships the fused retriever" in fusion_note(zero | {"ltr": dropped}) and "ltr 0.680 (p = 0.3)" in fusion_note(zero | {"ltr": dropped})
    assert "held-out results equal the retriever's" in fusion_note(zero)  # a run from before the stage reads as it did
