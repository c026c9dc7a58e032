"""A training run end to end: config, data, "before", train, "after", artifacts.

The config is typed and saved with the run (and beside the model), so a run can always be
reproduced from its row. "Before" and "after" are scored on the same eval qrels; the
cross-encoder's "before" is its retriever's ranking, never the untrained head.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import FlywheelError, InputError
from core.evaluation import metrics
from core.labeling import labels
from core.progress import Progress
from core.search.models import Embedder, resolve_model
from core.search.retrieval import corpus_matrix
from core.settings import Settings
from core.storage import splits
from core.storage.auth import User
from core.storage.schemas import RunKind
from core.storage.store import Store, sql_str
from core.training import data as trainingdata
from core.training.config import TrainConfig
from core.training.jobs import Job, Reporter

MINING_PHASE = "building training data: mining negatives"


def preview(store: Store, settings: Settings, config: TrainConfig) -> trainingdata.TrainingData:
    """The data a run would train on, without mining (cheap enough for a page)."""
    config = config.resolved()
    return trainingdata.build(store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
                              relevant_grade=settings.relevant_grade)


def execute(store: Store, settings: Settings, run_id: str, raw: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """The job body: data, before, train, after, artifacts. Returns model_path, before, after.
    A run that fails or is cancelled takes its model folder with it (no empty folders)."""
    run_dir = settings.models_dir / run_id
    existed = run_dir.exists()
    try:
        return _execute(store, settings, run_id, raw, reporter, run_dir)
    except BaseException:
        if reporter.primary and not existed:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _execute(store: Store, settings: Settings, run_id: str, raw: dict[str, Any], reporter: Reporter, run_dir: Path) -> dict[str, Any]:
    config = TrainConfig.from_dict(raw).resolved()
    if reporter.primary:  # other ranks start at the same moment: only rank 0 makes (and checks) the folder
        if run_dir.exists():
            raise InputError(f"training expects a new model folder, but {run_dir} already exists; runs never overwrite each other.")
        run_dir.mkdir(parents=True)
    eval_ids = metrics.eval_query_ids(store)
    qrels = labels.graded_qrels(store, eval_ids)
    if not metrics.judged_queries(qrels, settings.relevant_grade):
        raise InputError("training expects eval queries with at least one relevant document, but got none. Run `flywheel split` or grade eval queries.")
    reporter.phase("loading model")
    first_stage = config.retriever if config.kind == RunKind.cross_encoder.value else config.base_model
    base = Embedder(first_stage or None)
    reporter.phase("embedding the corpus")
    doc_ids, matrix = corpus_matrix(store, base, reporter.progress("embedding the corpus", "documents"))  # once: the miner and "before" both use these stored vectors
    reporter.phase("building training data")
    data = trainingdata.build(
        store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
        miner=base.model if config.mine else None, mining_margin=config.mining_margin, relevant_grade=settings.relevant_grade,
        corpus_vectors=dict(zip(doc_ids, matrix)) if config.mine else None,
        # A re-ranker only ever sees the retriever's top-k: it learns to separate documents there.
        rerank_depth=config.rerank_depth if config.kind == RunKind.cross_encoder.value else 0,
        progress=reporter.progress(MINING_PHASE, "queries"),
    )
    if not data.pairs:
        raise InputError("training expects positive pairs in the train split, but got none. " + " ".join(data.warnings))
    snapshot = data.counts() | {"eval_queries": len(metrics.judged_queries(qrels, settings.relevant_grade)), "warnings": data.warnings,
                                "positive_rule": data.positive_rule}
    if reporter.primary:
        resolved = asdict(config) | {"resolved_base_model": resolve_model(config.base_model), "positive_rule": data.positive_rule}
        store.update_where(
            "runs",
            f"run_id = {sql_str(run_id)}",
            {"snapshot": json.dumps(snapshot), "snapshot_hash": metrics.snapshot_hash(qrels), "config": json.dumps(resolved)},
        )
    reporter.raise_if_cancelled()

    before_rankings = metrics.rank_with_model(store, base, eval_ids, progress=reporter.progress("embedding the corpus", "documents"))
    reporter.phase("evaluating before")
    before = metrics.save_stage(store, run_id, "before", qrels, before_rankings, settings.relevant_grade) if reporter.primary else {}
    if settings.cohere_api_key and reporter.primary:
        from core.evaluation.rerank_api import cohere_stage

        try:
            cohere_stage(store, settings, run_id, qrels, before_rankings, config.cohere_model)
        except FlywheelError as error:  # an optional comparison never fails the run
            reporter.state["comparison_error"] = str(error)
    reporter.raise_if_cancelled()

    reporter.phase("training")
    model_dir = run_dir / "model"
    if config.kind == RunKind.bi_encoder.value:
        from core.training.bi_encoder import train_bi_encoder

        info = train_bi_encoder(config, data, base.path, model_dir, run_dir / "checkpoints", reporter)
        after_rankings = metrics.rank_with_model(store, Embedder(str(model_dir)), eval_ids,
                                                 progress=reporter.progress("embedding the corpus with the new model", "documents")) if reporter.primary else {}
    elif config.kind == RunKind.adapter.value:
        from core.training.adapter import train_adapter

        info = train_adapter(store, config, data, base, model_dir, reporter)
        after_rankings = metrics.rank_with_model(store, Embedder(str(model_dir)), eval_ids)
    else:
        from core.training.cross_encoder import Reranker, train_cross_encoder

        info = train_cross_encoder(store, config, data, base, model_dir, run_dir / "checkpoints", reporter)
        after_rankings = (Reranker(str(model_dir)).rerank_all(store, before_rankings, reporter.progress("re-ranking eval queries", "pairs"))
                          if reporter.primary else {})
    reporter.state["training"] = info
    reporter.raise_if_cancelled()
    if reporter.primary:  # rank 0's folder; the trainers let every rank load the best checkpoint before they return
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if not reporter.primary:
        return {"model_path": str(model_dir)}

    reporter.phase("evaluating after")
    after = metrics.save_stage(store, run_id, "after", qrels, after_rankings, settings.relevant_grade)
    summary = {"run_id": run_id, "config": asdict(config), "snapshot": snapshot, "training": info,
               "before": metrics.summary(before), "after": metrics.summary(after)}
    (run_dir / "flywheel_run.json").write_text(json.dumps(summary, indent=2, default=str))
    write_card(run_dir, config, snapshot, info, before, after)
    return {"model_path": str(model_dir), "before": before, "after": after, "training": info}


def write_card(run_dir: Path, config: TrainConfig, snapshot: dict, info: dict, before: dict, after: dict) -> None:
    """A short human model card beside the model (the libraries write their own inside it)."""
    rows = "\n".join(f"| {name} | {before.get(name, 0):.4f} | {after.get(name, 0):.4f} |" for name in metrics.SUMMARY)
    text = (
        f"# Flywheel run {run_dir.name}\n\nKind: {config.kind}. Base model: {config.base_model or 'bundled all-MiniLM-L6-v2'}.\n\n"
        f"Trained on {snapshot.get('train_pairs', 0)} pairs from {snapshot.get('train_queries', 0)} train queries "
        f"({snapshot.get('hard_negatives', 0)} flagged hard negatives, {snapshot.get('low_graded', 0)} low-graded, {snapshot.get('mined', 0)} mined); "
        f"Positives: {snapshot.get('positive_rule', '')}. Evaluated on {snapshot.get('eval_queries', 0)} held-out eval queries.\n\n| metric | before | after |\n|---|---|---|\n{rows}\n\n"
        f"Training: {json.dumps(info, default=str)}\n\nConfig: `{json.dumps(asdict(config))}`\n"
    )
    (run_dir / "MODEL_CARD.md").write_text(text)


def launch(store: Store, settings: Settings, config: TrainConfig, actor: str | User = "cli", background: bool = True,
           progress: Progress | None = None) -> Job:
    """Create the run row and start the job (in a thread, or in the foreground); `progress` hears
    the run's phases, counts, loss and validation score as the row does (the CLI's bar)."""
    resolved = config.resolved()
    splits.assign_unassigned(store, actor)
    job = Job.create(store, settings, resolved.kind, resolved.base_model or "bundled:all-MiniLM-L6-v2", asdict(resolved), execute, actor=actor)
    job.reporter.listener = progress
    if background:
        return job.start()
    job.run()
    return job
