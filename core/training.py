"""A training run end to end: config, data, "before", train, "after", artifacts.

The config is typed and saved with the run (and beside the model), so a run can always be
reproduced from its row. "Before" and "after" are scored on the same eval qrels; the
cross-encoder's "before" is its retriever's ranking, never the untrained head.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from core import evaluation, trainingdata
from core.errors import FlywheelError, InputError
from core.jobs import Job, Reporter
from core.models import Embedder, resolve_model
from core.schemas import RunKind
from core.settings import Settings
from core.store import Store, sql_str

KINDS = (RunKind.bi_encoder.value, RunKind.cross_encoder.value, RunKind.adapter.value)
DEFAULTS: dict[str, dict[str, Any]] = {
    RunKind.bi_encoder.value: {"epochs": 3.0, "batch_size": 32, "learning_rate": 5e-5},
    RunKind.cross_encoder.value: {"epochs": 2.0, "batch_size": 16, "learning_rate": 5e-5},
    RunKind.adapter.value: {"epochs": 40.0, "batch_size": 64, "learning_rate": 1e-3},
}


@dataclass
class TrainConfig:
    """The few settings that matter; None means the kind's default (DEFAULTS)."""

    kind: str = RunKind.bi_encoder.value
    base_model: str = ""  # '' = bundled MiniLM; any local path or hub id
    retriever: str = ""  # cross-encoder only: the bi-encoder whose top-k it re-ranks
    epochs: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_steps: int = 0  # 0 = no cap
    time_budget_s: float = 0.0  # 0 = no budget; training stops and keeps the best model when it passes
    negatives_per_query: int = 3
    positive_grade: int = 3
    validation_fraction: float = 0.15
    eval_steps: int = 0  # 0 = about twice per epoch
    patience: int = 3  # early stopping: evaluations without improvement
    rerank_depth: int = 20
    mining_margin: float = 0.05
    mine: bool = True
    cohere_model: str = "rerank-v3.5"
    seed: int = 0

    def resolved(self) -> TrainConfig:
        if self.kind not in KINDS:
            raise InputError(f"train expects --kind in {', '.join(KINDS)}, but got '{self.kind}'.")
        values = asdict(self) | {k: v for k, v in DEFAULTS[self.kind].items() if getattr(self, k) is None}
        config = TrainConfig(**values)
        checks = [
            ("epochs", config.epochs > 0, "a positive number such as 3"),
            ("batch_size", config.batch_size >= 2, "at least 2 (in-batch negatives need company)"),
            ("learning_rate", 0 < config.learning_rate < 1, "a small positive number such as 5e-5"),
            ("negatives_per_query", 0 <= config.negatives_per_query <= 32, "0 to 32"),
            ("positive_grade", 1 <= config.positive_grade <= 5, "1 to 5"),
            ("max_steps", config.max_steps >= 0, "0 (no cap) or more"),
            ("validation_fraction", 0 <= config.validation_fraction < 0.5, "0 to 0.5"),
        ]
        for name, ok, hint in checks:
            if not ok:
                raise InputError(f"train expects {name} to be {hint}, but got {getattr(config, name)!r}.")
        return config

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def preview(store: Store, settings: Settings, config: TrainConfig) -> trainingdata.TrainingData:
    """The data a run would train on, without mining (cheap enough for a page)."""
    config = config.resolved()
    return trainingdata.build(store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
                              relevant_grade=settings.relevant_grade)


def execute(store: Store, settings: Settings, run_id: str, raw: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """The job body: data, before, train, after, artifacts. Returns model_path, before, after."""
    config = TrainConfig.from_dict(raw).resolved()
    run_dir = settings.models_dir / run_id
    if run_dir.exists() and reporter.primary:
        raise InputError(f"training expects a new model folder, but {run_dir} already exists; runs never overwrite each other.")
    run_dir.mkdir(parents=True, exist_ok=not reporter.primary)
    eval_ids = evaluation.eval_query_ids(store)
    qrels = evaluation.eval_qrels(store, eval_ids)
    if not evaluation.judged_queries(qrels, settings.relevant_grade):
        raise InputError("training expects eval queries with at least one relevant document, but got none. Run `flywheel split` or grade eval queries.")
    reporter.phase("loading model")
    first_stage = config.retriever if config.kind == RunKind.cross_encoder.value else config.base_model
    base = Embedder(first_stage or None)
    reporter.phase("building training data")
    data = trainingdata.build(
        store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
        miner=base.model if config.mine else None, mining_margin=config.mining_margin, relevant_grade=settings.relevant_grade,
        # A re-ranker only ever sees the retriever's top-k: it learns to separate documents there.
        mining_window=(0, config.rerank_depth) if config.kind == RunKind.cross_encoder.value else None,
    )
    if not data.pairs:
        raise InputError("training expects positive pairs in the train split, but got none. " + " ".join(data.warnings))
    snapshot = data.counts() | {"eval_queries": len(evaluation.judged_queries(qrels, settings.relevant_grade)), "warnings": data.warnings}
    if reporter.primary:
        resolved = asdict(config) | {"resolved_base_model": resolve_model(config.base_model)}
        store.update_where(
            "runs",
            f"run_id = {sql_str(run_id)}",
            {"snapshot": json.dumps(snapshot), "snapshot_hash": evaluation.snapshot_hash(qrels), "config": json.dumps(resolved)},
        )
    reporter.raise_if_cancelled()

    reporter.phase("evaluating before")
    before_rankings = evaluation.rank_with_model(store, base, eval_ids)
    before = evaluation.save_stage(store, run_id, "before", qrels, before_rankings, settings.relevant_grade) if reporter.primary else {}
    if settings.cohere_api_key and reporter.primary:
        from core.rerank_api import cohere_stage

        try:
            cohere_stage(store, settings, run_id, qrels, before_rankings, config.cohere_model)
        except FlywheelError as error:  # an optional comparison never fails the run
            reporter.state["comparison_error"] = str(error)
    reporter.raise_if_cancelled()

    reporter.phase("training")
    model_dir = run_dir / "model"
    if config.kind == RunKind.bi_encoder.value:
        from core.train_bi import train_bi_encoder

        info = train_bi_encoder(config, data, base.path, model_dir, run_dir / "checkpoints", reporter)
        after_rankings = evaluation.rank_with_model(store, Embedder(str(model_dir)), eval_ids) if reporter.primary else {}
    elif config.kind == RunKind.adapter.value:
        from core.train_adapter import train_adapter

        info = train_adapter(store, config, data, base, model_dir, reporter)
        after_rankings = evaluation.rank_with_model(store, Embedder(str(model_dir)), eval_ids)
    else:
        from core.train_cross import Reranker, train_cross_encoder

        info = train_cross_encoder(store, config, data, base, model_dir, run_dir / "checkpoints", reporter)
        after_rankings = Reranker(str(model_dir)).rerank_all(store, before_rankings) if reporter.primary else {}
    reporter.state["training"] = info
    reporter.raise_if_cancelled()
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if not reporter.primary:
        return {"model_path": str(model_dir)}

    reporter.phase("evaluating after")
    after = evaluation.save_stage(store, run_id, "after", qrels, after_rankings, settings.relevant_grade)
    summary = {"run_id": run_id, "config": asdict(config), "snapshot": snapshot, "training": info,
               "before": evaluation.headline(before), "after": evaluation.headline(after)}
    (run_dir / "flywheel_run.json").write_text(json.dumps(summary, indent=2, default=str))
    write_card(run_dir, config, snapshot, info, before, after)
    return {"model_path": str(model_dir), "before": before, "after": after, "training": info}


def write_card(run_dir: Path, config: TrainConfig, snapshot: dict, info: dict, before: dict, after: dict) -> None:
    """A short human model card beside the model (the libraries write their own inside it)."""
    rows = "\n".join(f"| {name} | {before.get(name, 0):.4f} | {after.get(name, 0):.4f} |" for name in ("recall@5", "recall@10", "ndcg@10", "mrr@10", "map@10"))
    text = (
        f"# Flywheel run {run_dir.name}\n\nKind: {config.kind}. Base model: {config.base_model or 'bundled all-MiniLM-L6-v2'}.\n\n"
        f"Trained on {snapshot.get('train_pairs', 0)} pairs from {snapshot.get('train_queries', 0)} train queries "
        f"({snapshot.get('hard_negatives', 0)} flagged hard negatives, {snapshot.get('low_graded', 0)} low-graded, {snapshot.get('mined', 0)} mined); "
        f"evaluated on {snapshot.get('eval_queries', 0)} held-out eval queries.\n\n| metric | before | after |\n|---|---|---|\n{rows}\n\n"
        f"Training: {json.dumps(info, default=str)}\n\nConfig: `{json.dumps(asdict(config))}`\n"
    )
    (run_dir / "MODEL_CARD.md").write_text(text)


def launch(store: Store, settings: Settings, config: TrainConfig, actor: str = "cli", background: bool = True) -> Job:
    """Create the run row and start the job (in a thread, or in the foreground)."""
    resolved = config.resolved()
    job = Job.create(store, settings, resolved.kind, resolved.base_model or "bundled:all-MiniLM-L6-v2", asdict(resolved), execute, actor=actor)
    if background:
        return job.start()
    job.run()
    return job
