"""The learning curve: what more labels will buy, measured on the team's own data.

A curve job trains the chosen kind on seeded, nested subsets of the train queries (25/50/75/100%
by default, several seeds), or, by judgments, on every train query with a share of its judgments
(depth.py), scores each model on the same eval set as every run, and stores
each point with its per-query values (`curve_points`), so any metric can be refitted later.
It runs as a `Job` (a runs row of kind 'curve'): progress and cancel work like any run, and one
job runs at a time. Its key hashes the eval qrels, the train labels and the config, so the
stored points are reused until the labels change. curvefit turns the points into a projection.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InputError
from core.evaluation import ladder, metrics
from core.evaluation.results import metric_label, parse_metric
from core.labeling import labels
from core.progress import Progress
from core.search.models import Embedder, resolve_model
from core.search.retrieval import corpus_matrix, rank_many
from core.settings import Settings
from core.storage.auth import User
from core.storage.filters import After
from core.storage.schemas import CurvePoint, RunKind, RunStatus, Split
from core.storage.store import Store
from core.training import curvefit, depth, jobs, trainers
from core.training import data as trainingdata
from core.training.adapter import CORPUS_LIMIT
from core.training.config import TrainConfig
from core.training.jobs import Job, Reporter
from core.training.trainers import TrainingInputs

KINDS = (RunKind.adapter.value, RunKind.bi_encoder.value)
BY = ("queries", "judgments")  # what the fractions take a share of
DEFAULT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
DEFAULT_SEEDS = {RunKind.adapter.value: 5, RunKind.bi_encoder.value: 1}  # the adapter takes seconds a point
DEFAULT_METRIC = metrics.VALIDATION_METRIC
MIN_TRAIN_QUERIES = 8  # a quarter of fewer than this is one or two queries: no curve worth fitting
MIN_EVAL_QUERIES = 5


@dataclass
class CurveConfig:
    """What a curve trains: the kind, the subset sizes and seeds; the metric is chosen when reading."""

    kind: str = RunKind.adapter.value
    fractions: list[float] = field(default_factory=lambda: list(DEFAULT_FRACTIONS))
    seeds: int = 0  # 0 = the kind's default (DEFAULT_SEEDS)
    base_model: str = ""  # '' = bundled MiniLM
    time_budget_s: float = 0.0  # bi-encoder: the whole curve's budget, shared evenly by its points; 0 = none
    max_steps: int = 0  # per point; 0 = the kind's default epochs
    positive_grade: int = 0  # 0 = the top band of each query's scale, as a training run (labels.positive_threshold)
    by: str = "queries"  # 'judgments': every train query, a share of each one's judgments

    def resolved(self) -> CurveConfig:
        if self.kind not in KINDS:
            raise InputError(f"curve expects --kind in {', '.join(KINDS)}, but got '{self.kind}'; the adapter takes seconds a point.")
        fractions = sorted({round(float(f), 4) for f in self.fractions})
        if not fractions or fractions[0] <= 0 or fractions[-1] > 1:
            raise InputError(f"curve expects fractions in (0, 1] such as 0.25,0.5,0.75,1.0, but got {self.fractions}.")
        if fractions[-1] != 1.0:
            fractions.append(1.0)  # today's labels are always the last point
        if self.by not in BY:
            raise InputError(f"curve expects --by in {', '.join(BY)}, but got '{self.by}'.")
        seeds = self.seeds or DEFAULT_SEEDS[self.kind]
        if not 1 <= seeds <= 20:
            raise InputError(f"curve expects --seeds from 1 to 20, but got {self.seeds}.")
        return replace(self, fractions=fractions, seeds=seeds)

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(kind=self.kind, base_model=self.base_model, max_steps=self.max_steps, positive_grade=self.positive_grade,
                           seed=seed).resolved()

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CurveConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


def labels_key(store: Store, settings: Settings, config: CurveConfig) -> str:
    """Hash of the eval qrels, the train queries and their labels, and the config: equal keys, same curve."""
    eval_qrels = labels.graded_qrels(store, metrics.eval_query_ids(store))
    train = store.split_queries(Split.train, columns=["query_id", "text"])
    ids = sorted(train["query_id"])
    settings_part = asdict(config.resolved())
    if settings_part["by"] == BY[0]:
        del settings_part["by"]  # curves stored before --by existed were by queries: their keys stay valid
    consensus = labels.consensus_labels(store, ids) if ids else pd.DataFrame(columns=["query_id", "doc_id", "grade", "hard_negative"])
    canonical = json.dumps({
        "eval": metrics.snapshot_hash(eval_qrels),
        "train": sorted(zip(train["query_id"], train["text"])),
        "labels": sorted(zip(consensus["query_id"], consensus["doc_id"], map(int, consensus["grade"]), map(bool, consensus["hard_negative"]))),
        "config": settings_part | {"resolved_base_model": resolve_model(config.base_model)},
        "relevant_grade": settings.relevant_grade,
    }, sort_keys=True, default=str)
    return hashlib.sha1(canonical.encode()).hexdigest()[:16]


def subset(query_ids: list[str], fraction: float, seed: int) -> list[str]:
    """A seeded share of the train queries; for one seed, each fraction contains the smaller ones."""
    order = sorted(query_ids)
    random.Random(seed).shuffle(order)
    return sorted(order[: max(1, int(round(fraction * len(order))))])


def subset_data(data: trainingdata.TrainingData, keep: list[str]) -> trainingdata.TrainingData:
    """The same training data restricted to `keep` train queries (validation queries stay as they are)."""
    kept = set(keep)
    return replace(
        data,
        query_text={q: t for q, t in data.query_text.items() if q in kept or q in data.validation},
        positives={q: d for q, d in data.positives.items() if q in kept},
        negatives={q: d for q, d in data.negatives.items() if q in kept},
        negative_source={k: v for k, v in data.negative_source.items() if k[0] in kept},
        grades={q: g for q, g in data.grades.items() if q in kept},
        warnings=[],
    )


class PointReporter(Reporter):
    """A trainer's progress inside one point, written as the whole curve's progress (0–100)."""

    def __init__(self, outer: Reporter, index: int, count: int, label: str, time_budget_s: float = 0.0):
        super().__init__(outer.store, outer.run_id, outer.cancel, time_budget_s, primary=outer.primary)
        self.outer, self.index, self.count, self.label = outer, index, count, label

    def update(self, step: int, total: int, loss: float | None = None, evaluation: dict[str, float] | None = None,
               phase: str = "training") -> None:
        share = min(step / total, 1.0) if total else 0.0
        overall(self.outer, (self.index + share) / self.count, f"{self.label} · {phase}")

    def phase(self, name: str, total: int = 0, unit: str = "") -> None:
        overall(self.outer, self.index / self.count, f"{self.label} · {name}")

    def work(self, done: int, total: int) -> None:
        """Work inside a point's phase moves the curve's bar; a cancel still takes effect here."""
        self.raise_if_cancelled()


def overall(reporter: Reporter, done: float, label: str) -> None:
    """Curve progress in percent, with an ETA from the time spent so far."""
    elapsed = time.monotonic() - reporter.started
    left = round(elapsed / done * (1 - done), 1) if done > 0 else None
    reporter.state.update(step=int(done * 100), total=100, phase=label, eta_s=left, work={"done": int(done * 100), "total": 100, "unit": "%", "eta_s": left})
    reporter.write()


@dataclass
class Frozen:
    """What every adapter point shares, embedded once: the corpus matrix and the base model's raw vectors of the
    train, validation and eval queries. A point only multiplies query vectors by its matrix."""

    doc_ids: list[str]
    matrix: np.ndarray
    queries: dict[str, np.ndarray]  # train and validation queries
    eval_ids: list[str]
    eval_vectors: np.ndarray

    @classmethod
    def build(cls, store: Store, base: Embedder, data: trainingdata.TrainingData, eval_ids: list[str]) -> Frozen:
        doc_ids, matrix = corpus_matrix(store, base)
        ids = sorted(data.query_text)
        raw = base.model.encode([data.query_text[q] for q in ids], normalize_embeddings=True, show_progress_bar=False)
        texts = store.query_texts(eval_ids)
        kept = [q for q in eval_ids if q in texts]
        return cls(doc_ids, matrix, dict(zip(ids, np.asarray(raw, dtype=np.float32))), kept, base.encode_queries([texts[q] for q in kept]))

    def rank(self, adapter: np.ndarray) -> dict[str, metrics.Ranking]:
        """The eval queries ranked with an adapter, as Embedder.encode_queries would embed them."""
        vectors = self.eval_vectors @ adapter
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        return dict(zip(self.eval_ids, rank_many(vectors, self.doc_ids, self.matrix, metrics.DEPTH)))


def _train_point(store: Store, config: TrainConfig, data: trainingdata.TrainingData, base: Embedder, folder: Path,
                 reporter: PointReporter, eval_ids: list[str], frozen: Frozen | None = None) -> tuple[dict[str, metrics.Ranking], dict]:
    """Train one subset and rank the eval queries with the result (nothing is kept on disk)."""
    inputs = TrainingInputs(store, config, data, base, folder / "model", reporter)
    if config.kind == RunKind.adapter.value:
        if frozen is not None:
            inputs.query_vectors, inputs.corpus = frozen.queries, (frozen.doc_ids, frozen.matrix)
        info = trainers.train(inputs)
        weights = np.load(folder / "model" / "adapter.npy").astype(np.float32)
        if frozen is not None:
            return frozen.rank(weights), info
        adapted = copy.copy(base)  # same base model and cached corpus embeddings; only queries change
        adapted.adapter = weights
        return metrics.rank_with_model(store, adapted, eval_ids), info
    info = trainers.train(inputs)
    model = Embedder(str(folder / "model"))
    reporter.phase("scoring the eval set")
    docs = store.document_texts()  # embedded in memory: no embeddings table per throwaway model
    doc_ids = list(docs)
    matrix = model.encode_documents([docs[d] for d in doc_ids])
    query_text = store.query_texts(eval_ids)
    ids = [q for q in eval_ids if q in query_text]
    vectors = model.encode_queries([query_text[q] for q in ids])
    return dict(zip(ids, rank_many(vectors, doc_ids, matrix, metrics.DEPTH))), info


def _save_point(store: Store, run_id: str, fraction: float, seed: int, data: trainingdata.TrainingData | None,
                qrels: labels.Qrels, rankings: dict[str, metrics.Ranking], relevant_grade: int) -> dict[str, float]:
    means, per_query = metrics.compute(qrels, rankings, relevant_grade)
    counts = data.counts() if data is not None else {"train_queries": 0, "train_pairs": 0}
    store.add("curve_points", [CurvePoint(
        run_id=run_id, fraction=fraction, seed=seed, train_queries=counts["train_queries"], train_pairs=counts["train_pairs"],
        values=json.dumps({k: round(v, 6) for k, v in means.items()}),
        per_query=json.dumps({q: {k: round(v, 6) for k, v in vals.items()} for q, vals in per_query.items()}),
        counts=json.dumps({"train_judgments": depth.judgment_count(data) if data is not None else 0}),
    )])
    return means


def execute(store: Store, settings: Settings, run_id: str, raw: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """The job body: the base model, then every (seed, fraction) point, each stored as it ends."""
    config = CurveConfig.from_dict(raw).resolved()
    eval_ids = metrics.eval_query_ids(store)
    qrels = labels.graded_qrels(store, eval_ids)
    judged = metrics.judged_queries(qrels, settings.relevant_grade)
    if len(judged) < MIN_EVAL_QUERIES:
        raise InputError(f"a learning curve expects at least {MIN_EVAL_QUERIES} eval queries with a relevant document, but got "
                         f"{len(judged)}; run `flywheel split` or grade eval queries.")
    reporter.phase("loading model")
    base = Embedder(config.base_model or None)
    reporter.phase("building training data")
    first = config.train_config(0)
    # The adapter's loss is a softmax over the whole corpus: below CORPUS_LIMIT it reads no negatives, so none are mined.
    mine = config.kind == RunKind.bi_encoder.value or store.count("documents") > CORPUS_LIMIT
    miner = base.model if mine else None
    data = trainingdata.build(store, first.positive_grade, first.negatives_per_query, first.validation_fraction, 0, miner=miner,
                              mining_margin=first.mining_margin, relevant_grade=settings.relevant_grade)
    train_ids = sorted(data.positives)
    if len(train_ids) < MIN_TRAIN_QUERIES:
        raise InputError(f"a learning curve expects at least {MIN_TRAIN_QUERIES} train queries with a positive, but got "
                         f"{len(train_ids)} (positives: {data.positive_rule}); grade more train queries as positives.")
    key = labels_key(store, settings, config)
    snapshot = data.counts() | {"eval_queries": len(judged), "key": key}
    store.update_where("runs", {"run_id": run_id}, {"snapshot": json.dumps(snapshot), "snapshot_hash": metrics.snapshot_hash(qrels)})
    reporter.phase("evaluating the base model")
    _save_point(store, run_id, 0.0, 0, None, qrels, metrics.rank_with_model(store, base, eval_ids), settings.relevant_grade)
    reporter.phase("scoring pipelines that need no training: BM25 and hybrid")
    validation = {q: docs for q, docs in data.validation.items() if q in data.query_text}
    untrained = ladder.FirstStage(store, base, eval_ids, validation, store.query_texts(eval_ids) | {q: data.query_text[q] for q in validation},
                                  settings.relevant_grade).untrained()
    for name in (ladder.BM25, ladder.HYBRID):  # the reference lines a curve has to clear: both need no labels
        metrics.save_stage(store, run_id, name, qrels, untrained[name], settings.relevant_grade)
    frozen = Frozen.build(store, base, data, eval_ids) if config.kind == RunKind.adapter.value else None
    plan = [(seed, fraction) for seed in range(config.seeds) for fraction in config.fractions]
    budget = config.time_budget_s / len(plan) if config.time_budget_s else 0.0
    with tempfile.TemporaryDirectory(prefix="flywheel-curve-") as tmp:
        for index, (seed, fraction) in enumerate(plan):
            reporter.raise_if_cancelled()
            if config.by == BY[0]:
                part = subset_data(data, subset(train_ids, fraction, seed))
                label = f"point {index + 1}/{len(plan)}: {len(part.positives)} train queries ({fraction:.0%}, seed {seed})"
            else:
                part = depth.thin_judgments(data, fraction, seed)
                label = (f"point {index + 1}/{len(plan)}: {depth.judgment_count(part)} judgments on {len(part.positives)} train queries "
                         f"({fraction:.0%} of each, seed {seed})")
            inner = PointReporter(reporter, index, len(plan), label, budget)
            overall(reporter, index / len(plan), label)
            rankings, _ = _train_point(store, config.train_config(seed), part, base, Path(tmp) / str(index), inner, eval_ids, frozen)
            reporter.raise_if_cancelled()
            _save_point(store, run_id, fraction, seed, part, qrels, rankings, settings.relevant_grade)
    overall(reporter, 1.0, "fitting")
    return {"points": len(plan) + 1, "key": key}


def launch(store: Store, settings: Settings, config: CurveConfig, actor: str | User = "cli", background: bool = True,
           progress: Progress | None = None) -> Job:
    """A curve job (one job at a time, like any run), in a thread or in the foreground; `progress`
    hears the curve's progress as its row does (the CLI's bar)."""
    resolved = config.resolved()
    return jobs.launch(store, settings, RunKind.curve.value, asdict(resolved), execute, actor, background, progress)


def curve_runs(store: Store) -> pd.DataFrame:
    """Every curve job, newest first, with its config and snapshot parsed."""
    runs = store.read("runs", where={"kind": RunKind.curve})
    if runs.empty:
        return runs
    runs["config"] = [json.loads(c or "{}") for c in runs["config"]]
    runs["snapshot"] = [json.loads(s or "{}") for s in runs["snapshot"]]
    runs["key"] = [s.get("key", "") for s in runs["snapshot"]]
    return runs.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)


def find(store: Store, settings: Settings, config: CurveConfig) -> str | None:
    """The newest finished curve on today's labels with this config, if any: its points are reused."""
    runs = curve_runs(store)
    if runs.empty:
        return None
    key = labels_key(store, settings, config)
    done = runs[(runs["status"] == RunStatus.succeeded.value) & (runs["key"] == key)]
    return None if done.empty else str(done["run_id"].iloc[0])


def points(store: Store, run_id: str) -> pd.DataFrame:
    """The stored points of one curve: fraction, seed, train_queries, train_pairs, train_judgments (None before it
    was stored), values, per_query (parsed)."""
    frame = store.read("curve_points", where={"run_id": run_id})
    frame["values"] = [json.loads(v) for v in frame["values"]]
    frame["per_query"] = [json.loads(v) for v in frame["per_query"]]
    frame["train_judgments"] = [json.loads(c or "{}").get("train_judgments") for c in frame["counts"]]
    return frame.sort_values(["fraction", "seed"]).reset_index(drop=True)


def _judgments_axis(value: Any) -> Any:
    """A curve by judgments is read against judgments: the fit's size keys say so."""
    if isinstance(value, list):
        return [_judgments_axis(v) for v in value]
    if isinstance(value, dict):
        return {{"train_queries": "train_judgments", "fit_on_queries": "fit_on_judgments"}.get(k, k): v for k, v in value.items()}
    return value


def summarize(store: Store, run_id: str, metric: str = DEFAULT_METRIC) -> dict[str, Any]:
    """The curve as the CLI prints it and the page draws it: points, fit, projection with band, backtest, sentence.

    A curve by queries is fitted against train queries, a curve by judgments against judged pairs."""
    parse_metric(metric)
    frame = points(store, run_id)
    trained = frame[frame["fraction"] > 0]
    if trained.empty:
        raise InputError(f"curve {run_id} expects trained points, but has none; run `flywheel curve` again.")
    run = store.read("runs", where={"run_id": run_id}).iloc[0]
    config = json.loads(run["config"])
    by = config.get("by", BY[0])
    queries = sorted(set(trained["per_query"].iloc[0]))
    matrix = np.array([[pq.get(q, {}).get(metric, 0.0) for q in queries] for pq in trained["per_query"]])
    result = curvefit.project(trained["train_queries" if by == BY[0] else "train_judgments"].to_numpy(dtype=float), matrix)
    by_fraction = trained.groupby("fraction").agg(train_queries=("train_queries", "mean"), train_pairs=("train_pairs", "mean"),
                                                  train_judgments=("train_judgments", lambda v: v.mean() if v.notna().all() else None))
    values = trained.assign(value=[v[metric] for v in trained["values"]]).groupby("fraction")["value"].agg(["mean", "std", "count"])
    base = frame[frame["fraction"] == 0]
    axis = (lambda v: v) if by == BY[0] else _judgments_axis
    unit = "graded train queries" if by == BY[0] else "judgments on today's train queries"
    judged = by_fraction["train_judgments"]
    return {
        "run_id": run_id, "kind": config.get("kind", ""), "by": by, "metric": metric,
        "points": [{"fraction": float(f), "train_queries": int(round(by_fraction.loc[f, "train_queries"])),
                    "train_pairs": int(round(by_fraction.loc[f, "train_pairs"])),
                    "train_judgments": None if pd.isna(judged.loc[f]) else int(round(judged.loc[f])),
                    "value": round(float(values.loc[f, "mean"]), 4),
                    "seed_std": None if values.loc[f, "count"] < 2 else round(float(values.loc[f, "std"]), 4), "seeds": int(values.loc[f, "count"])}
                   for f in by_fraction.index],
        "base": None if base.empty else round(float(base["values"].iloc[0][metric]), 4),
        "baselines": {name: round(values[metric], 4) for name, values in metrics.stage_metrics(store, run_id).items()
                      if name in ladder.NO_TRAINING and metric in values},  # BM25 and hybrid: what needs no labels
        "fit": result.fit.as_dict(),
        "projection": axis(result.projection),
        "band": axis(result.band),
        "backtest": axis(result.backtest),
        "informative": result.informative,
        "sentence": curvefit.sentence(result, metric_label(metric), unit),
        "note": " ".join(result.notes),
        "eval_queries": len(queries),
    }


def has_judgment_counts(store: Store, run_id: str) -> bool:
    """Whether a curve's points know how many judgments they trained on (curves stored before that cannot be compared)."""
    counts = store.read("curve_points", where={"run_id": run_id, "fraction": After(0)}, columns=["counts"])["counts"]
    return bool(len(counts)) and all(counts)


def counterpart(config: CurveConfig) -> CurveConfig:
    """The same curve read the other way (by queries <-> by judgments)."""
    return replace(config, by=BY[1] if config.by == BY[0] else BY[0])


def comparison(store: Store, settings: Settings, config: CurveConfig, metric: str = DEFAULT_METRIC) -> dict[str, Any] | None:
    """Breadth or depth (depth.compare), when both curves of this config are stored on today's labels."""
    found = {c.by: find(store, settings, c) for c in (config, counterpart(config))}
    if not all(found.values()):
        return None
    by_queries, by_judgments = (summarize(store, found[b], metric) for b in BY)
    return depth.compare(by_queries["points"], by_judgments["points"], metric_label(metric)) | {
        "by_queries_run": found[BY[0]], "by_judgments_run": found[BY[1]]}


def next_step(summary: dict[str, Any] | None) -> str | None:
    """Home's next step from a curve on today's labels: what more labels buy, or that it cannot tell yet."""
    if summary is None:
        return None
    if summary["informative"]:
        return f"{summary['sentence']} Grade more train queries on the Grade page, then train again."
    return (f"{summary['sentence']} Before more training labels, grade eval queries where the Results page shows the widest "
            "intervals, then re-run the curve.")
