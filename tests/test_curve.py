"""The learning-curve job on a tiny model: subsets, stored points, reuse until labels change, cancel,
the CLI's JSON, and the guidance computed from the points."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.commands.main import main
from core.errors import InputError
from core.evaluation.results import runs_frame
from core.storage.schemas import Document, Judgment, Query, now
from core.storage.store import Store
from core.training import curve, guidance, jobs
from tests.tiny_model import build_tiny_model

TOPICS = ["deductible", "copay", "claim", "appeal", "dependent", "pharmacy", "referral", "network", "vision", "dental",
          "maternity", "therapy", "urgent care", "telehealth", "vaccines", "hearing", "ambulance", "hospice", "lab tests", "x-ray",
          "allergy", "surgery", "rehab", "wellness"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def fill_curve(store: Store, train: int = 16, evaluation: int = 8) -> Store:
    """One document per topic; one query per topic with its document graded 5 and a neighbour graded 0."""
    stamp = now()
    store.add("documents", [Document(doc_id=f"d{i}", title=t.title(), text=f"What the plan covers for {t}, and what it costs.")
                            for i, t in enumerate(TOPICS)])
    queries, judgments = [], []
    for i, topic in enumerate(TOPICS[: train + evaluation]):
        split = "train" if i < train else "eval"
        text = f"how much is {topic}?" if i % 2 else f"{topic} cost"
        queries.append(Query(query_id=f"q{i}", text=text, split=split, source="a" if i % 3 else "b", created_at=stamp))
        for doc, grade in ((f"d{i}", 5), (f"d{(i + 1) % len(TOPICS)}", 0)):
            judgments.append(Judgment(query_id=f"q{i}", doc_id=doc, reviewer="import:t", grade=grade, created_at=stamp, updated_at=stamp))
    store.add("queries", queries)
    store.add("judgments", judgments)
    return store


def binary_beir_folder(root, train: int = 16, evaluation: int = 8):
    """fill_curve's documents and queries as a BEIR folder with binary qrels (1 the topic's document, 0 a neighbour)."""
    folder = root / "binary"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"d{i}", "title": t.title(), "text": f"What the plan covers for {t}."}) + "\n"
                                                 for i, t in enumerate(TOPICS)))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{i}", "text": f"how much is {t}?"}) + "\n"
                                                  for i, t in enumerate(TOPICS[: train + evaluation])))
    for name, ids in (("train", range(train)), ("test", range(train, train + evaluation))):
        lines = [f"q{i}\td{i}\t1\nq{i}\td{(i + 1) % len(TOPICS)}\t0" for i in ids]
        (folder / "qrels" / f"{name}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(lines) + "\n")
    return folder


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_config_is_checked_and_always_ends_at_todays_labels():
    assert curve.CurveConfig(fractions=[0.5, 0.25]).resolved().fractions == [0.25, 0.5, 1.0]
    assert curve.CurveConfig().resolved().seeds == curve.DEFAULT_SEEDS["adapter"]
    with pytest.raises(InputError, match="--kind in adapter, bi-encoder"):
        curve.CurveConfig(kind="cross-encoder").resolved()
    with pytest.raises(InputError, match=r"fractions in \(0, 1\]"):
        curve.CurveConfig(fractions=[0.0, 1.0]).resolved()


def test_subsets_are_seeded_and_nested():
    ids = [f"q{i}" for i in range(20)]
    small, large = curve.subset(ids, 0.25, 3), curve.subset(ids, 0.75, 3)
    assert len(small) == 5 and len(large) == 15 and set(small) <= set(large)
    assert curve.subset(ids, 0.25, 3) == small and curve.subset(ids, 0.25, 4) != small
    assert curve.subset(ids, 1.0, 3) == sorted(ids)


def test_cli_curve_stores_points_prints_json_and_reuses_them_until_labels_change(store, workspace, tiny, capsys):
    fill_curve(store)
    args = ["curve", "--base-model", tiny, "--fractions", "0.34,0.67,1.0", "--seeds", "2", "--max-steps", "2"]
    assert main(args) == 0
    out = last_json(capsys)
    assert {"kind", "metric", "points", "fit", "projection", "backtest"} <= set(out) and out["reused"] is False
    assert out["kind"] == "adapter" and out["metric"] == "ndcg@10"
    assert set(out["baselines"]) == {"bm25", "hybrid"} and all(0 <= v <= 1 for v in out["baselines"].values())  # lines to clear
    assert [p["fraction"] for p in out["points"]] == [0.34, 0.67, 1.0]
    assert [p["train_queries"] for p in out["points"]] == [5, 11, 16]  # 16 train queries (too few for a validation set)
    assert all(0 <= p["value"] <= 1 and p["seeds"] == 2 for p in out["points"])
    assert [p["train_queries"] for p in out["projection"]] == [24, 32, 64]
    assert all(p["low"] <= p["value"] <= p["high"] for p in out["projection"])
    assert out["backtest"]["fit_on_queries"] == [5, 11] and out["backtest"]["error"] is not None
    row = jobs.read_run(store, out["run_id"])
    assert row["kind"] == "curve" and row["status"] == "succeeded" and row["progress"]["step"] == 100
    assert store.count("curve_points", f"run_id = '{out['run_id']}'") == 1 + 3 * 2  # the base model, then 3 fractions x 2 seeds
    # Nothing of the throwaway models stays behind: no model folder, no embeddings table per point.
    assert not (workspace.models_dir / out["run_id"]).exists()
    assert len([n for n in store.table_names() if n.startswith("embeddings_")]) == 1

    assert main(args + ["--metric", "recall@5"]) == 0
    again = last_json(capsys)
    assert again["reused"] is True and again["run_id"] == out["run_id"] and again["metric"] == "recall@5"
    assert store.count("runs") == 1

    stamp = now()
    store.upsert("judgments", [Judgment(query_id="q0", doc_id="d5", reviewer="ann", grade=0, created_at=stamp, updated_at=stamp)])
    assert curve.find(store, workspace, curve.CurveConfig(base_model=tiny, fractions=[0.34, 0.67, 1.0], seeds=2, max_steps=2)) is None


def test_curve_jobs_are_not_listed_as_training_runs(store, workspace, tiny, capsys):
    fill_curve(store)
    assert main(["curve", "--base-model", tiny, "--fractions", "0.5,1.0", "--seeds", "1", "--max-steps", "1"]) == 0
    out = last_json(capsys)
    assert out["backtest"]["error"] is None and out["informative"] is False  # two sizes: nothing to backtest
    assert out["sentence"].startswith("Not informative yet")
    assert jobs.list_runs(store) == [] and runs_frame(store).empty


def test_a_curve_can_be_cancelled_like_any_run(store, workspace, tiny):
    fill_curve(store)
    job = curve.launch(store, workspace, curve.CurveConfig(base_model=tiny, seeds=2, max_steps=2))
    job.cancel()
    assert job.wait(120) == "cancelled"
    assert store.count("curve_points", f"run_id = '{job.run_id}' AND fraction > 0") == 0


def test_too_few_train_queries_fail_with_what_to_do(store, workspace, tiny):
    fill_curve(store, train=4)
    job = curve.launch(store, workspace, curve.CurveConfig(base_model=tiny, seeds=1, max_steps=1), background=False)
    row = jobs.read_run(store, job.run_id)
    assert row["status"] == "failed" and "at least 8 train queries" in row["error"]


def test_a_curve_on_a_binary_beir_import_works_by_default(store, workspace, tmp_path, tiny, capsys):
    """Binary qrels have no grade 3: the curve takes each query's top band, as training does (it asked for >= 3)."""
    from core.storage.imports import import_path

    import_path(store, binary_beir_folder(tmp_path), name="binary")
    assert main(["curve", "--base-model", tiny, "--fractions", "0.5,1.0", "--seeds", "1", "--max-steps", "1"]) == 0
    out = last_json(capsys)
    assert [p["train_queries"] for p in out["points"]] == [8, 16]
    # The Curve page's default config is the one the CLI measured: it finds the same curve.
    assert curve.find(store, workspace, curve.CurveConfig(base_model=tiny, fractions=[0.5, 1.0], seeds=1, max_steps=1)) == out["run_id"]


def test_guidance_segments_and_eval_queries_for_a_narrower_interval(store):
    fill_curve(store)
    rng = np.random.default_rng(0)
    ids = [f"q{i}" for i in range(16, 24)]
    base = {q: {"ndcg@10": float(v)} for q, v in zip(ids, rng.uniform(0.2, 0.6, len(ids)))}
    today = {q: {"ndcg@10": base[q]["ndcg@10"] + float(d)} for q, d in zip(ids, rng.normal(0.1, 0.1, len(ids)))}
    points = pd.DataFrame([{"fraction": 0.0, "per_query": base}, {"fraction": 1.0, "per_query": today}])
    need = guidance.eval_queries_for_width(points, "ndcg@10")
    assert need["eval_queries"] == 8 and need["eval_queries_needed"] == 32 and need["more_eval_queries"] == 24  # half the width: 4x
    assert need["ci_low"] < need["change"] < need["ci_high"]
    wide = guidance.eval_queries_for_width(points, "ndcg@10", target_width=need["ci_width"] * 2)
    assert wide["more_eval_queries"] == 0
    table = guidance.segments(store, points, "ndcg@10")
    assert set(table["segment"]) == {"source: a", "source: b", "style: question", "style: keyword"}
    assert table["eval_queries"].sum() == 16 and list(table["ci_width"]) == sorted(table["ci_width"], reverse=True)
    assert guidance.query_style("how much is x") == guidance.query_style("x cost?") == "question"
    assert guidance.query_style("gold hmo deductible") == "keyword"


def test_a_bi_encoder_curve_scores_each_point_without_leaving_models_or_tables(store, workspace, tiny, capsys):
    fill_curve(store)
    assert main(["curve", "--kind", "bi-encoder", "--base-model", tiny, "--fractions", "0.5,1.0", "--max-steps", "1"]) == 0
    out = last_json(capsys)
    assert out["kind"] == "bi-encoder" and [p["seeds"] for p in out["points"]] == [1, 1]
    assert store.count("curve_points", f"run_id = '{out['run_id']}'") == 3
    assert len([n for n in store.table_names() if n.startswith("embeddings_")]) == 1  # the base model's only


def test_adapter_points_rank_from_vectors_embedded_once_as_the_adapted_model_would(store, workspace, tiny):
    import copy

    from core.evaluation import metrics
    from core.search.models import Embedder
    from core.training import data as trainingdata

    fill_curve(store)
    base = Embedder(tiny)
    eval_ids = metrics.eval_query_ids(store)
    frozen = curve.Frozen.build(store, base, trainingdata.build(store, 3, 0, 0.0), eval_ids)
    weights = (np.eye(base.dim) + np.random.default_rng(0).normal(0, 0.2, (base.dim, base.dim))).astype(np.float32)
    adapted = copy.copy(base)
    adapted.adapter = weights
    expected = metrics.rank_with_model(store, adapted, eval_ids)
    got = frozen.rank(weights)
    assert sorted(got) == sorted(expected) and len(got) == 8
    for q in expected:
        assert [d for d, _ in got[q]] == [d for d, _ in expected[q]]
        assert np.allclose([s for _, s in got[q]], [s for _, s in expected[q]], atol=1e-5)
