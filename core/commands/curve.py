"""`flywheel curve`: what more labels will buy, as a learning curve with a backtested projection."""

from __future__ import annotations

import sys

from core.commands.output import bars, open_store, print_json
from core.settings import Settings


def _fractions(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        from core.errors import InputError

        raise InputError(f"curve expects --fractions as comma-separated numbers such as 0.25,0.5,0.75,1.0, but got '{text}'.") from None


def _curve(settings: Settings, args) -> int:
    from core.training import curve
    from core.training.jobs import mark_interrupted, read_run

    store = open_store(settings)
    mark_interrupted(store, settings.models_dir)
    config = curve.CurveConfig(kind=args.kind, fractions=_fractions(args.fractions), seeds=args.seeds, base_model=args.base_model,
                               time_budget_s=args.time_budget, max_steps=args.max_steps, positive_grade=args.positive_grade,
                               by=args.by).resolved()
    # By judgments, the curve by queries is measured too (or reused): the answer is the comparison of the two.
    wanted = [config] if config.by == curve.BY[0] else [curve.counterpart(config), config]
    reused = True
    for each in wanted:
        run_id = None if args.force else curve.find(store, settings, each)
        if run_id is not None and len(wanted) > 1 and not curve.has_judgment_counts(store, run_id):
            run_id = None  # measured before judgment counts were stored: nothing to compare with
        if run_id is None:
            reused = False
            with bars(args, "starting") as progress:
                job = curve.launch(store, settings, each, actor=args.actor, background=False, progress=progress)
            row = read_run(store, job.run_id)
            if row["status"] != "succeeded":
                print(row["error"], file=sys.stderr)
                print_json({"run_id": job.run_id, "status": row["status"], "kind": config.kind, "by": each.by, "metric": args.metric})
                return 1
            run_id = job.run_id
    print_json(curve.summarize(store, run_id, args.metric) | {"reused": reused,
                                                             "comparison": curve.comparison(store, settings, config, args.metric)})
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "curve", help="learning curve on subsets of the train queries (or of each query's judgments), projected to 1.5x/2x/4x the labels with a backtest; "
                      "the last stdout line is JSON")
    parser.add_argument("--kind", choices=["adapter", "bi-encoder"], default="adapter", help="what to train at each point (default adapter: seconds)")
    parser.add_argument("--by", choices=["queries", "judgments"], default="queries",
                        help="what the fractions share out: train queries (default), or each train query's judgments, all queries kept; "
                             "'judgments' also measures the curve by queries and compares them at equal judgment counts")
    parser.add_argument("--fractions", default="0.25,0.5,0.75,1.0", help="shares of the train queries (default 0.25,0.5,0.75,1.0)")
    parser.add_argument("--seeds", type=int, default=0, help="subsets drawn per fraction (default: adapter 5, bi-encoder 1)")
    parser.add_argument("--metric", default="ndcg@10", help="metric to fit and project, name@k (default ndcg@10)")
    parser.add_argument("--base-model", default="", help="local path or hub id (default: the bundled MiniLM)")
    parser.add_argument("--time-budget", type=float, default=0.0, help="seconds for the whole curve, shared by its points (bi-encoder)")
    parser.add_argument("--max-steps", type=int, default=0, help="training steps per point (0 = the kind's default epochs)")
    parser.add_argument("--positive-grade", type=int, default=0,
                        help="grade that makes a positive (default 0: the top band of each query's scale, e.g. 1 on binary qrels, 3 on 0-5)")
    parser.add_argument("--force", action="store_true", help="train again even when a curve on today's labels is stored")
    parser.add_argument("--actor", default="cli", help="name stored in the audit log")
    parser.set_defaults(handler=_curve)
