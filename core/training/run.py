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
from core.evaluation import ladder, metrics
from core.labeling import labels
from core.progress import Progress
from core.search.models import Embedder, resolve_model
from core.search.retrieval import corpus_matrix
from core.settings import Settings
from core.storage.auth import User
from core.storage.schemas import RunKind
from core.storage.store import Store
from core.training import data as trainingdata
from core.training import jobs, trainers
from core.training.config import TrainConfig
from core.training.jobs import Job, Reporter
from core.training.pipeline import PipelineSpec
from core.training.trainers import TrainingInputs

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
                                "positive_rule": data.positive_rule,
                                "inference_precision": base.precision}  # of the corpus vectors, mining and evaluation (issue 26)
    if reporter.primary:
        resolved = asdict(config) | {"resolved_base_model": resolve_model(config.base_model), "positive_rule": data.positive_rule}
        store.update_where(
            "runs",
            {"run_id": run_id},
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
    reporter.phase("scoring pipelines that need no training: BM25 and hybrid")
    validation = {q: docs for q, docs in data.validation.items() if q in data.query_text}
    texts = store.query_texts(eval_ids) | {q: data.query_text[q] for q in validation}
    baseline = ladder.FirstStage(store, base, eval_ids, validation, texts, settings.relevant_grade, corpus=(doc_ids, matrix))
    rungs = {ladder.BM25: baseline.bm25(), ladder.DENSE: before_rankings, ladder.HYBRID: baseline.hybrid(baseline.choice["weight"])}
    reporter.raise_if_cancelled()

    reporter.phase("training")
    model_dir = run_dir / "model"
    choices = {"hybrid": baseline.choice}
    if config.kind == RunKind.cross_encoder.value:
        from core.training.cross_encoder import Reranker

        info = trainers.train(TrainingInputs(store, config, data, base, model_dir, reporter,
                                             first_stage=baseline.validation_first_stage(config.rerank_depth)))
        # The re-ranking rung: learning to rank from the fused score (training.ltr), the cross-encoder's logit one feature.
        weight, depth = baseline.choice["weight"], config.rerank_depth
        spec = PipelineSpec(["bm25", "dense", "rerank"], dense_model=config.retriever, fusion_weight=weight, reranker="model", rerank_depth=depth)
        if reporter.primary:
            from core.training import ltr

            cross_encoder = Reranker(str(model_dir)).model
            stage, info["ltr"] = ltr.fit_for_run(store, data, base, (doc_ids, matrix), weight, depth, baseline.validation_first_stage(depth),
                                                baseline.candidates, cross_encoder, config.seed, reporter)
            if stage.trees:
                spec.ltr = stage.save(run_dir / ltr.LTR_FILE).name
            rungs[ladder.RERANK] = stage.rerank_first(store, baseline.hybrid(weight, max(depth, metrics.DEPTH)), baseline.candidates, texts, depth,
                                                     cross_encoder, reporter.progress("re-ranking eval queries", "pairs"))
        shipped = ladder.RERANK
    else:
        info = trainers.train(TrainingInputs(store, config, data, base, model_dir, reporter, corpus=(doc_ids, matrix)))
        if reporter.primary:
            tuned = ladder.FirstStage(store, Embedder(str(model_dir)), eval_ids, validation, texts, settings.relevant_grade,
                                      lexical=baseline.lexical, progress=reporter.progress("embedding the corpus with the new model", "documents"))
            choices["tuned-hybrid"] = tuned.choice
            rungs[ladder.TUNED_DENSE] = tuned.hybrid(1.0)
            rungs[ladder.TUNED_HYBRID] = tuned.hybrid(tuned.choice["weight"])
        weight = choices.get("tuned-hybrid", {}).get("weight", 1.0)
        spec = PipelineSpec(["bm25", "dense"] if weight < 1.0 else ["dense"], dense_model="model", fusion_weight=weight)
        shipped = ladder.TUNED_HYBRID
        if reporter.primary and not ladder.trained_wins(choices["tuned-hybrid"], choices["hybrid"]):
            # The labels bought nothing on the validation queries (which even picked the checkpoint):
            # ship the base model's hybrid, which needs none. The fine-tuned model stays in the run's folder.
            weight = choices["hybrid"]["weight"]
            spec = PipelineSpec(["bm25", "dense"] if weight < 1.0 else ["dense"], dense_model=config.base_model, fusion_weight=weight)
            shipped = ladder.HYBRID
    reporter.state["training"] = info
    reporter.raise_if_cancelled()
    if reporter.primary:  # rank 0's folder; the trainers let every rank load the best checkpoint before they return
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if not reporter.primary:
        return {"model_path": str(model_dir)}

    reporter.phase("evaluating after")
    for name, rankings in rungs.items():
        if name != ladder.DENSE:  # the base model dense is "before"
            metrics.save_stage(store, run_id, ladder.stage_name(name), qrels, rankings, settings.relevant_grade)
    after = metrics.save_stage(store, run_id, "after", qrels, rungs[shipped], settings.relevant_grade)
    scored = ladder.score(qrels, rungs, settings.relevant_grade)
    spec.workspace, spec.chosen = store.uri, {"fusion": choices, "shipped": shipped, "rule": SHIPPING_RULE}
    spec.save(run_dir)
    pipeline = {"stages": spec.stages, "fusion_weight": spec.fusion_weight, "describe": spec.describe(), "shipped_rung": shipped,
                "headline": ladder.sentence(next(r for r in scored if r.name == shipped), scored)}
    if "rerank" in spec.stages:
        pipeline["rerank_weight"] = spec.rerank_weight
        pipeline["rerank"] = info.get("ltr", {}).get("kept")  # the learning-to-rank variant kept, or None: the first stage
    reporter.state["ladder"] = [r.as_dict() for r in scored]
    reporter.state["pipeline"] = pipeline
    baselines = {r.name: r.summary for r in scored if not r.trained}
    summary = {"run_id": run_id, "config": asdict(config), "snapshot": snapshot, "training": info,
               "before": metrics.summary(before), "after": metrics.summary(after), "baselines": baselines, "pipeline": pipeline}
    (run_dir / "flywheel_run.json").write_text(json.dumps(summary, indent=2, default=str))
    write_card(run_dir, config, snapshot, info, before, after, scored, spec)
    return {"model_path": str(model_dir), "before": before, "after": after, "training": info, "baselines": baselines, "pipeline": pipeline}


SHIPPING_RULE = ("first stage: BM25 and the dense model fused, the dense weight chosen on validation queries (1 = dense alone), "
                 "the fine-tuned model only when its best fusion beats the base model's there; "
                 "a re-ranking stage on top (LightGBM lambdarank from the fused score, with and without the cross-encoder's logit "
                 "as a feature) is kept only when it beats its first stage there (one-sided paired test)")


def write_card(run_dir: Path, config: TrainConfig, snapshot: dict, info: dict, before: dict, after: dict,
               scored: list[ladder.Rung], spec: PipelineSpec) -> None:
    """A short human model card beside the model (the libraries write their own inside it)."""
    rows = "\n".join(f"| {name} | {before.get(name, 0):.4f} | {after.get(name, 0):.4f} |" for name in metrics.SUMMARY)
    ladder_rows = "\n".join(f"| {r.label} | {r.value:.4f} | {r.ci_low:.4f}–{r.ci_high:.4f} | "
                            f"{'' if r.p_vs_best_untrained is None else f'{r.p_vs_best_untrained:.3g}'} |" for r in scored)
    text = (
        f"# Flywheel run {run_dir.name}\n\nKind: {config.kind}. Base model: {config.base_model or 'bundled all-MiniLM-L6-v2'}.\n\n"
        f"Ships: {spec.describe()} (`pipeline.json`; serve it with `flywheel search --run {run_dir.name}` or "
        f"`core.training.pipeline.load_pipeline`). How it was chosen: {SHIPPING_RULE}.\n\n"
        f"| pipeline | {metrics.VALIDATION_METRIC} | 95% CI | p vs best without training |\n|---|---|---|---|\n{ladder_rows}\n\n"
        f"Trained on {snapshot.get('train_pairs', 0)} pairs from {snapshot.get('train_queries', 0)} train queries "
        f"({snapshot.get('hard_negatives', 0)} flagged hard negatives, {snapshot.get('low_graded', 0)} low-graded, {snapshot.get('mined', 0)} mined); "
        f"Positives: {snapshot.get('positive_rule', '')}. Evaluated on {snapshot.get('eval_queries', 0)} held-out eval queries.\n\n| metric | before | after |\n|---|---|---|\n{rows}\n\n"
        f"Training: {json.dumps(info, default=str)}\n\nConfig: `{json.dumps(asdict(config))}`\n"
    )
    (run_dir / "MODEL_CARD.md").write_text(text)


def launch(store: Store, settings: Settings, config: TrainConfig, actor: str | User = "cli", background: bool = True,
           progress: Progress | None = None) -> Job:
    """A training run, as `jobs.launch` starts any job (config checked first: a bad one makes no row)."""
    resolved = config.resolved()
    return jobs.launch(store, settings, resolved.kind, asdict(resolved), execute, actor, background, progress)
