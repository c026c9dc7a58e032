"""`flywheel split | train | eval | runs`: the headless training path.

Multi-GPU: the training step is a plain Hugging Face Trainer, so
`accelerate launch --num_processes 4 -m core.commands.main train --kind bi-encoder` runs it data-parallel;
every rank builds the same seeded data, rank 0 alone writes the run row, metrics and model
(set FLYWHEEL_RUN_ID so all ranks agree on the run folder). Several machines: `train --ray [ADDRESS]
--workers N` runs the same ranks as Ray Train workers (core.training.ray_train).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.commands.output import bars, open_store, print_json
from core.errors import InputError
from core.settings import Settings


def train_options() -> dict[str, tuple[str, type, str]]:
    """flag -> (TrainConfig field, type, help), from the fields' own metadata (training.config)."""
    from core.training.config import cli_options

    return cli_options()


def _split(settings: Settings, args) -> int:
    from core.storage.splits import assign_splits, leaked_texts

    store = open_store(settings)
    counts = assign_splits(store, args.eval_fraction, args.seed, reset=args.reset)
    print_json({"splits": counts, "leaked_texts": len(leaked_texts(store))})
    return 0


def _train(settings: Settings, args) -> int:
    from core.evaluation.metrics import ALL, stage_metrics, summary
    from core.training.config import TrainConfig
    from core.training.jobs import mark_interrupted, read_run
    from core.training.run import launch

    store = open_store(settings)
    mark_interrupted(store, settings.models_dir)
    values = {"kind": args.kind, "mine": not args.no_mining}
    for switch in ("warm_start", "pretrain"):  # neither flag: TrainConfig's default
        if getattr(args, switch) is not None:
            values[switch] = getattr(args, switch)
    for flag, (name, _, _) in train_options().items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            values[name] = value
    if args.ray is not None:
        from core.training.ray_train import train_with_ray

        job = train_with_ray(store, settings, TrainConfig.from_dict(values), args.ray or None, 2 if args.workers is None else args.workers, actor=args.actor)
    elif args.workers is not None:
        raise InputError("train expects --workers only with --ray; add --ray, or use accelerate launch on one machine.")
    else:
        with bars(args, "starting") as progress:
            job = launch(store, settings, TrainConfig.from_dict(values), actor=args.actor, background=False, progress=progress)
    if not job.primary:  # an accelerate worker rank: rank 0 owns the run row and the summary line
        print_json({"run_id": job.run_id, "rank": os.environ.get("RANK")})
        return 0
    row = read_run(store, job.run_id)
    if row["error"]:
        print(row["error"], file=sys.stderr)
    # A Ray run's result stayed on its workers: its row and metrics hold the same.
    stages = stage_metrics(store, job.run_id) if args.ray is not None else job.result
    result = {"run_id": job.run_id, "status": row["status"], "model_path": row["model_path"],
              "before": summary(stages.get("before", {}), ALL), "after": summary(stages.get("after", {}), ALL),
              "training": job.result.get("training") or row["progress"].get("training", {}),
              "baselines": job.result.get("baselines") or {}, "pipeline": job.result.get("pipeline") or row["progress"].get("pipeline", {})}
    print(json.dumps(result))
    return 0 if row["status"] == "succeeded" else 1


def _eval(settings: Settings, args) -> int:
    """Score a model (dense), a model with a re-ranker, or a run's shipped pipeline on the eval
    queries, beside the pipelines that need no training (BM25, dense, hybrid)."""
    from core.evaluation import ladder, metrics
    from core.labeling import labels
    from core.search.models import Embedder
    from core.storage.schemas import Split
    from core.storage.splits import assign_unassigned

    store = open_store(settings)
    assign_unassigned(store)
    ids = metrics.eval_query_ids(store)
    qrels = labels.graded_qrels(store, ids)
    validation = labels.graded_qrels(store, metrics.split_query_ids(store, Split.train))  # the weight is never chosen on eval queries
    texts = store.query_texts([*ids, *validation])
    with bars(args, "embedding the corpus") as progress:
        stage = ladder.FirstStage(store, Embedder(args.model or None), ids, validation, texts, settings.relevant_grade, progress=progress)
        rungs = stage.untrained()
        rankings = rungs[ladder.DENSE]
        if args.run:
            from core.training.jobs import read_run
            from core.training.pipeline import load_pipeline

            run = read_run(store, args.run)
            progress(0, 0, "loading the run's pipeline")
            pipeline = load_pipeline(Path(run["model_path"]).parent, store)
            progress(0, 0, "ranking eval queries with the run's pipeline")
            rankings = pipeline.rank({q: texts[q] for q in ids if q in texts}, metrics.DEPTH)
        elif args.reranker:
            from core.training.cross_encoder import Reranker

            progress(0, 0, "loading the re-ranker")
            reranker = Reranker(args.reranker, args.weight)
            progress(0, 0, "re-ranking eval queries")
            rankings = reranker.rerank_all(store, rankings, progress)
    means, _ = metrics.compute(qrels, rankings, settings.relevant_grade)
    scored = ladder.score(qrels, rungs, settings.relevant_grade)
    print_json({"model": args.model or "bundled", "reranker": args.reranker, "run": args.run,
                "eval_queries": len(metrics.judged_queries(qrels, settings.relevant_grade)),
                "snapshot_hash": metrics.snapshot_hash(qrels), "metrics": metrics.summary(means, metrics.ALL),
                "baselines": {r.name: r.summary for r in scored}, "ladder": [r.as_dict() for r in scored],
                "hybrid_weight": stage.choice})
    return 0


def _runs(settings: Settings, args) -> int:
    from core.training.jobs import list_runs, mark_interrupted

    store = open_store(settings, create=False)
    mark_interrupted(store, settings.models_dir)
    for run in list_runs(store):
        print_json(run)
    return 0


def register(subparsers) -> None:
    split = subparsers.add_parser("split", help="assign approved queries to train/eval (seeded, stratified, no leakage)")
    split.add_argument("--eval-fraction", type=float, default=0.3)
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--reset", action="store_true", help="re-draw every split, imported ones included")
    split.set_defaults(handler=_split)

    train = subparsers.add_parser("train", help="fine-tune and evaluate before/after; the last stdout line is JSON")
    train.add_argument("--kind", choices=["bi-encoder", "cross-encoder", "adapter"], default="bi-encoder")
    for flag, (_, kind, text) in train_options().items():
        train.add_argument(flag, type=kind, default=None, help=text)
    train.add_argument("--no-mining", action="store_true", help="use only flagged and low-graded negatives")
    train.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=None,
                       help="cross-encoder: first distil the retriever over synthetic queries for the corpus (--no-warm-start: from the fresh head)")
    train.add_argument("--pretrain", action=argparse.BooleanOptionalAction, default=None,
                       help="cross-encoder: first train on synthetic queries, each with its source document as the positive (off by default)")
    train.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                       help="bi-encoder: train data-parallel with Ray Train on the cluster at ADDRESS (a local one when omitted)")
    train.add_argument("--workers", type=int, default=None, help="--ray: training workers (default 2)")
    train.add_argument("--actor", default="cli", help="name stored in the audit log")
    train.set_defaults(handler=_train)

    ev = subparsers.add_parser("eval", help="score a model (and optional re-ranker) on the eval split; prints JSON")
    ev.add_argument("--model", default="", help="bi-encoder or adapter folder (default: the bundled MiniLM)")
    ev.add_argument("--reranker", default="", help="a cross-encoder run's model folder")
    ev.add_argument("--weight", type=float, default=None, help="fusion weight (default: the one chosen at training)")
    ev.add_argument("--run", default="", help="score this run's shipped pipeline (its pipeline.json) instead of a model")
    ev.set_defaults(handler=_eval)

    runs = subparsers.add_parser("runs", help="list runs with status and summary metrics (one JSON line each)")
    runs.set_defaults(handler=_runs)
