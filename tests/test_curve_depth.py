"""The curve by judgments per query: seeded thinning of each query's judgments, the breadth-or-depth
comparison at equal judgment counts (known answers on synthetic points and on a stubbed trainer),
and the CLI's JSON."""

from __future__ import annotations

import json

from core.commands.main import main
from core.training import curve, depth
from core.training.data import TrainingData
from tests.test_curve import fill_curve, last_json, tiny  # noqa: F401 - the module fixture

METRIC = "nDCG@10"


def data_with(judged: dict[str, dict[str, int]], positives: dict[str, list[str]]) -> TrainingData:
    negatives = {q: [d for d, g in grades.items() if g == 0] for q, grades in judged.items()}
    return TrainingData(query_text={q: q for q in judged}, doc_text={}, positives=positives, negatives=negatives,
                        negative_source={(q, d): "low-graded" for q, ds in negatives.items() for d in ds}, grades=judged, validation={})


def test_thinning_keeps_every_query_a_positive_and_nests_per_seed():
    judged = {f"q{i}": {f"d{i}-{j}": (5 if j == 3 else 0) for j in range(8)} for i in range(6)}
    data = data_with(judged, {q: [d for d, g in g_.items() if g == 5] for q, g_ in judged.items()})
    assert depth.judgment_count(data) == 48
    quarter, half = depth.thin_judgments(data, 0.25, seed=1), depth.thin_judgments(data, 0.5, seed=1)
    assert set(quarter.positives) == set(data.positives)  # every train query stays
    assert depth.judgment_count(quarter) == 12 and depth.judgment_count(half) == 24
    for q in data.positives:
        assert quarter.positives[q] == data.positives[q]  # the positive is always among the kept judgments
        assert set(quarter.grades[q]) <= set(half.grades[q])  # nested for one seed
        assert set(quarter.negatives[q]) == set(quarter.grades[q]) - set(quarter.positives[q])
    assert depth.thin_judgments(data, 0.25, seed=2).grades != quarter.grades
    assert depth.thin_judgments(data, 1.0, seed=1).grades == data.grades


def point(judgments: int, value: float, spread: float = 0.01) -> dict:
    return {"train_judgments": judgments, "value": value, "seed_std": spread}


def test_comparison_names_breadth_depth_or_noise():
    by_queries = [point(100, 0.50), point(200, 0.60), point(300, 0.65), point(400, 0.70)]
    breadth = depth.compare(by_queries, [point(150, 0.66), point(250, 0.68), point(400, 0.70)], METRIC)
    assert breadth["winner"] == "judgments" and breadth["sentence"].startswith(f"On this data {depth.BREADTH} buys more")
    assert [r["train_judgments"] for r in breadth["compared"]] == [150, 250]  # today's point is shared: not compared
    assert breadth["compared"][0]["by_queries"] == 0.55 and breadth["difference"] == -0.0825
    deep = depth.compare(by_queries, [point(150, 0.45), point(250, 0.55), point(400, 0.70)], METRIC)
    assert deep["winner"] == "queries" and depth.DEPTH in deep["sentence"].split(" buys")[0]
    noise = depth.compare(by_queries, [point(150, 0.56, 0.05), point(250, 0.62, 0.05), point(400, 0.70)], METRIC)
    assert noise["winner"] is None and "within noise" in noise["sentence"] and abs(noise["difference"]) < noise["seed_spread"]
    apart = depth.compare(by_queries, [point(450, 0.7), point(500, 0.71)], METRIC)
    assert apart["compared"] == [] and "cannot be compared" in apart["sentence"] and "smaller fractions" in apart["sentence"]
    older = depth.compare([p | {"train_judgments": None} for p in by_queries], [point(150, 0.66), point(400, 0.70)], METRIC)
    assert older["compared"] == [] and "--force" in older["sentence"]


def test_a_trainer_that_only_learns_from_more_queries_makes_breadth_win(store, workspace, monkeypatch, capsys):
    """Stub trainer: eval query j ranks its relevant document first once the point trained on more than 2·j queries,
    whatever their judgments; so a curve holding every query beats one with fewer queries at equal judgments."""
    fill_curve(store)

    def stub(store_, config, part, base, folder, reporter, eval_ids, frozen=None):
        breadth = len(part.positives)
        rankings = {}
        for j, q in enumerate(sorted(eval_ids)):
            relevant = f"d{q[1:]}"
            others = [(f"d{k}", 0.5) for k in range(24) if f"d{k}" != relevant]
            rankings[q] = [(relevant, 1.0)] + others if breadth > 2 * j else others + [(relevant, 0.0)]
        return rankings, {}

    monkeypatch.setattr(curve, "_train_point", stub)
    args = ["curve", "--fractions", "0.34,0.67,1.0", "--seeds", "2", "--by", "judgments"]
    assert main(args) == 0
    out = last_json(capsys)
    assert out["by"] == "judgments" and out["reused"] is False
    assert [p["train_queries"] for p in out["points"]] == [16, 16, 16]  # every train query, fewer judgments each
    assert [p["train_judgments"] for p in out["points"]] == [16, 16, 32]  # 2 judgments a query: the positive first
    assert {"train_judgments", "value", "low", "high"} <= set(out["projection"][0])
    comparison = out["comparison"]
    assert comparison["winner"] == "judgments" and comparison["sentence"].startswith(f"On this data {depth.BREADTH}")
    by_queries = curve.summarize(store, comparison["by_queries_run"])
    assert by_queries["by"] == "queries" and [p["train_judgments"] for p in by_queries["points"]] == [10, 22, 32]

    assert main(args) == 0  # both curves are stored: nothing trains again
    again = last_json(capsys)
    assert again["reused"] is True and again["comparison"]["sentence"] == comparison["sentence"]
    assert main(["curve", "--fractions", "0.34,0.67,1.0", "--seeds", "2"]) == 0
    plain = last_json(capsys)
    assert plain["by"] == "queries" and plain["reused"] is True and plain["comparison"]["winner"] == "judgments"

    # A curve by queries from before judgment counts were stored is measured again, not compared blind.
    store.update_where("curve_points", f"run_id = '{comparison['by_queries_run']}'", {"counts": ""})
    assert main(args) == 0
    fresh = last_json(capsys)
    assert fresh["reused"] is False and fresh["comparison"]["by_queries_run"] != comparison["by_queries_run"]
    assert fresh["run_id"] == out["run_id"] and fresh["comparison"]["winner"] == "judgments"


def test_a_real_curve_by_judgments_runs_on_a_tiny_model(store, workspace, tiny, capsys):  # noqa: F811
    fill_curve(store)
    assert main(["curve", "--base-model", tiny, "--by", "judgments", "--fractions", "0.5,1.0", "--seeds", "1", "--max-steps", "1"]) == 0
    out = last_json(capsys)
    assert out["by"] == "judgments" and out["comparison"]["sentence"]
    rows = store.read("curve_points", where=f"run_id = '{out['run_id']}'")
    assert sorted(json.loads(c)["train_judgments"] for c in rows["counts"]) == [0, 16, 32]  # base model, 50%, 100%
