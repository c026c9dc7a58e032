"""The ladder of pipelines on every evaluation: BM25, dense, hybrid (weight chosen on validation
queries only), and what a run ships as `pipeline.json`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.evaluation import ladder, metrics
from core.search.fusion import Candidates
from core.storage.schemas import Split
from core.training.pipeline import PipelineSpec, load_pipeline


def candidates(relevant_first_by: str) -> Candidates:
    """Three documents; the relevant one 'r' ranks first by one signal and last by the other."""
    dense, bm25 = np.array([0.9, 0.5, 0.1]), np.array([1.0, 5.0, 9.0])
    if relevant_first_by == "bm25":
        return Candidates(["x", "y", "r"], dense, bm25)
    return Candidates(["r", "y", "x"], dense, bm25)


def test_fusion_weight_one_is_dense_alone_and_zero_is_bm25_alone():
    c = candidates("dense")
    assert [d for d, _ in c.ranking(1.0, 3)] == ["r", "y", "x"]
    assert [s for _, s in c.ranking(1.0, 3)] == [0.9, 0.5, 0.1]  # raw cosines, as a dense search shows them
    assert [d for d, _ in c.ranking(0.0, 3)] == ["x", "y", "r"]


@pytest.mark.parametrize("signal, weight", [("bm25", 0.4), ("dense", 0.5)])
def test_the_weight_follows_the_validation_queries(signal, weight):
    """Every weight below 0.5 puts 'r' first when BM25 finds it (0.5 and above when dense does:
    an exact tie goes to the dense score); among the tied best, the one nearest an even mix is kept."""
    qrels = {f"v{i}": {"r": 1} for i in range(5)}
    choice = ladder.choose_weight({q: candidates(signal) for q in qrels}, qrels, relevant_grade=1)
    assert choice["weight"] == weight and choice["queries"] == 5
    best = max(choice["grid"].values())
    assert all((v == best) == ((float(w) < 0.5) if signal == "bm25" else (float(w) >= 0.5)) for w, v in choice["grid"].items())


def test_no_validation_query_falls_back_to_the_default_weight():
    assert ladder.choose_weight({}, {}, 1)["weight"] == ladder.DEFAULT_WEIGHT


def test_an_eval_query_never_influences_the_hybrid_weight(small_store, embedder, monkeypatch):
    eval_ids = metrics.eval_query_ids(small_store)
    train_ids = metrics.split_query_ids(small_store, Split.train)
    from core.labeling import labels

    validation = labels.graded_qrels(small_store, train_ids)
    texts = small_store.query_texts([*eval_ids, *train_ids])
    seen: list[set[str]] = []
    compute = metrics.compute
    monkeypatch.setattr(metrics, "compute", lambda qrels, rankings, grade: seen.append(set(qrels) | set(rankings)) or compute(qrels, rankings, grade))
    stage = ladder.FirstStage(small_store, embedder, eval_ids, validation, texts, 1)
    assert seen and all(s <= set(train_ids) for s in seen)  # weight chosen on train-split queries only
    assert stage.choice["queries"] == len(metrics.judged_queries(validation, 1)) > 0
    rungs = stage.untrained()
    assert set(rungs) == {"bm25", "dense", "hybrid"} and all(set(r) <= set(eval_ids) for r in rungs.values())
    with pytest.raises(ValueError, match="never be eval queries"):
        ladder.FirstStage(small_store, embedder, eval_ids, {**validation, eval_ids[0]: {"d1": 3}}, texts, 1)


def test_each_rung_has_its_interval_and_paired_tests(small_store, embedder):
    eval_ids = metrics.eval_query_ids(small_store)
    from core.labeling import labels

    qrels = labels.graded_qrels(small_store, eval_ids)
    stage = ladder.FirstStage(small_store, embedder, eval_ids, {}, small_store.query_texts(eval_ids), 1)
    scored = ladder.score(qrels, stage.untrained(), 1)
    assert [r.name for r in scored] == ["bm25", "dense", "hybrid"] and not any(r.trained for r in scored)
    assert scored[0].p_vs_below is None and all(r.p_vs_below is not None for r in scored[1:])
    for rung in scored:
        assert rung.ci_low <= rung.value <= rung.ci_high and set(rung.summary) == set(metrics.SUMMARY)
    best = ladder.best_untrained(scored)
    assert best.value == max(r.value for r in scored) and best.p_vs_best_untrained is None


def test_the_headline_sentence_says_what_the_labels_bought():
    def rung(name, value, p=None, trained=False):
        return ladder.Rung(name, ladder.LABELS[name], trained, value, value - 0.1, value + 0.1, None, p, None, {})

    rungs = [rung("bm25", 0.60), rung("dense", 0.55), rung("hybrid", 0.70)]
    gain = rung("tuned-hybrid", 0.78, p=0.01, trained=True)
    assert ladder.sentence(gain, [*rungs, gain]).startswith("Fine-tuning added +0.080 ndcg@10 over the base model + BM25")
    assert "real gain (p = 0.01)" in ladder.sentence(gain, [*rungs, gain])
    noise = rung("tuned-hybrid", 0.71, p=0.6, trained=True)
    assert "within noise" in ladder.sentence(noise, [*rungs, noise])
    assert "needs no labels" in ladder.sentence(rungs[2], rungs)


def test_a_pipeline_spec_round_trips_and_a_broken_one_is_named(tmp_path):
    spec = PipelineSpec(["bm25", "dense"], dense_model="model", fusion_weight=0.3, workspace="/x")
    spec.save(tmp_path)
    assert PipelineSpec.load(tmp_path) == spec and "dense weight 0.3" in spec.describe()
    with pytest.raises(InputError, match="expects pipeline.json"):
        load_pipeline(tmp_path / "nowhere")
    (tmp_path / "pipeline.json").write_text("{not json")
    with pytest.raises(InputError, match="is not a pipeline spec"):
        PipelineSpec.load(tmp_path)


def test_a_bm25_only_pipeline_serves_without_a_model(small_store):
    from core.training.pipeline import Pipeline

    pipeline = Pipeline(PipelineSpec(["bm25"], fusion_weight=0.0), Path("."), small_store)
    hits = pipeline.search("deductible", 3)
    assert [h["rank"] for h in hits] == [1, 2, 3] and all("deductible" in h["title"].lower() for h in hits)
    with pytest.raises(InputError, match="expects a query"):
        pipeline.search("  ")


def test_a_run_ships_its_ladder_to_the_results_page_and_the_report(small_store, workspace, tmp_path, monkeypatch):
    """A tiny adapter run: every rung is stored, the page and the report lead with the shipped
    pipeline against the best one that needs no labels."""
    from streamlit.testing.v1 import AppTest

    from core.evaluation import report, results
    from core.training import run as training
    from core.training.config import TrainConfig
    from tests.conftest import ROOT
    from tests.tiny_model import build_tiny_model
    from ui import results_view

    tiny = build_tiny_model(tmp_path / "tiny")
    monkeypatch.setattr(ladder, "trained_wins", lambda trained, untrained: True)  # 2 steps of a tiny model: a near tie, either way
    job = training.launch(small_store, workspace, TrainConfig(kind="adapter", base_model=tiny, max_steps=2), background=False)
    data = results.load_run(small_store, job.run_id)
    assert {"before", "after", "bm25", "hybrid", "tuned-dense", "tuned-hybrid"} <= set(data.stages)
    steps = results.pipeline_ladder(data, "ndcg@10")
    assert [r.name for r in steps["rungs"]] == ["bm25", "dense", "hybrid", "tuned-dense", "tuned-hybrid"]
    assert steps["shipped"] == "tuned-hybrid" and steps["sentence"]
    shipped = next(r for r in steps["rungs"] if r.name == "tuned-hybrid")
    assert abs(shipped.value - results.metric_value(data, "ndcg@10", "after")) < 1e-4  # "after" is the shipped pipeline (rounded)

    at = AppTest.from_file(str(ROOT / "pages" / "results.py"), default_timeout=60)
    at.session_state["results_tab"] = results_view.TABS[0]
    at.run()
    assert not at.exception, at.exception
    assert "needs no labels" in at.subheader[0].value  # the lead sentence (markdown-escaped)
    assert any("Grey pipelines need no labels" in c.value for c in at.caption)
    html = report.render_report(small_store, job.run_id)
    assert "against the best one that needs no labels" in html and "BM25" in html

    # The Data page searches with the run's shipped pipeline, as `flywheel search --run` does.
    from core.training.pipeline import served_runs

    [served] = served_runs(small_store)
    assert served["run_id"] == job.run_id and served["describe"] == PipelineSpec.load(served["folder"]).describe()
    assert "dense (fine-tuned)" in served["describe"]
    expected = [h["doc_id"] for h in load_pipeline(served["folder"], small_store).search("gold hmo deductible", 5)]
    data_page = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=60)
    data_page.run()
    assert not data_page.exception, data_page.exception
    data_page.selectbox(key="data_search_run").set_value(job.run_id).run()
    data_page.text_input[0].input("gold hmo deductible").run()
    data_page.number_input[0].set_value(5).run()
    assert not data_page.exception, data_page.exception
    shown = [e.label.split("`")[1] for e in data_page.expander]  # "**1. title** · `doc_id` · score …"
    assert shown == expected and any("ships:" in c.value for c in data_page.caption)

    import shutil

    shutil.rmtree(Path(served["folder"]) / "model")  # the run's model gone from disk: the page says so and keeps its tabs
    data_page.text_input[0].input("deductible").run()
    assert not data_page.exception, data_page.exception
    assert data_page.error and not data_page.expander


def test_the_fine_tuned_model_ships_only_when_it_beats_the_base_model_on_validation():
    base = {"weight": 0.5, "grid": {"0.5": 0.40, "1.0": 0.30}}
    assert ladder.trained_wins({"weight": 0.7, "grid": {"0.7": 0.41}}, base)
    assert not ladder.trained_wins({"weight": 0.7, "grid": {"0.7": 0.40}}, base)  # a tie buys nothing
    assert ladder.trained_wins({"weight": 0.5, "grid": {}}, {"weight": 0.5, "grid": {}})  # no validation query: as before


def test_a_run_whose_labels_bought_nothing_on_validation_ships_the_base_hybrid(small_store, workspace, tmp_path, monkeypatch):
    from core.evaluation import results
    from core.training import run as training
    from core.training.config import TrainConfig
    from tests.tiny_model import build_tiny_model

    monkeypatch.setattr(ladder, "trained_wins", lambda trained, untrained: False)
    tiny = build_tiny_model(tmp_path / "tiny")
    job = training.launch(small_store, workspace, TrainConfig(kind="adapter", base_model=tiny, max_steps=2), background=False)
    assert job.result["pipeline"]["shipped_rung"] == "hybrid", job.result
    spec = PipelineSpec.load(Path(job.result["model_path"]).parent)
    assert spec.dense_model == tiny and "dense (base model)" in spec.describe()  # the base model, not the run's
    data = results.load_run(small_store, job.run_id)
    assert results.metric_value(data, "ndcg@10", "after") == results.metric_value(data, "ndcg@10", "hybrid")
    assert "needs no labels" in job.result["pipeline"]["headline"]
