"""`flywheel judges`: how far each source of pre-grades agrees with people; `flywheel estimate`: a
run's metric from a judge's grades everywhere and people's on the random audit sample (PPI++)."""

from __future__ import annotations

from core.commands.output import open_store, print_json
from core.settings import Settings


def _judge(store, settings: Settings, source: str, args):
    from core.evaluation import judges
    from core.training.pipeline import load_pipeline

    client = None
    if source.startswith("llm") and args.ask:
        from core.errors import InputError
        from core.labeling.llm import make_client

        if not settings.llm:
            raise InputError("--ask expects a configured LLM, but FLYWHEEL_LLM is empty; set it (e.g. openai/gpt-4o-mini)")
        client = make_client(settings)
    return judges.make(store, source, client=client, max_calls=args.max_calls, pipeline=lambda folder: load_pipeline(folder, store))


def _judges(settings: Settings, args) -> int:
    from core.evaluation import judges

    store = open_store(settings, create=False)
    sources = args.judge or judges.sources(store, llm=bool(settings.llm and args.ask))
    found = []
    for source in sources:
        judge = _judge(store, settings, source, args)
        found.append(judges.agreement(store, judge, include_imports=args.include_imports, metric=args.metric,
                                      relevant_grade=settings.relevant_grade).as_dict())
    print_json({"metric": args.metric, "include_imports": args.include_imports, "judges": found})
    return 0


def _estimate(settings: Settings, args) -> int:
    from core.training import estimates

    store = open_store(settings, create=False)
    estimates.check_metric(args.metric)
    judge = _judge(store, settings, args.judge, args)
    print_json(estimates.estimate(store, args.run, judge, metric=args.metric, scope=args.scope, against=args.against,
                                  include_imports=args.include_imports, audit_size=args.audit_size,
                                  relevant_grade=settings.relevant_grade))
    return 0


def _common(parser) -> None:
    parser.add_argument("--metric", default="ndcg@10", help="metric name@k (default ndcg@10)")
    parser.add_argument("--include-imports", action="store_true",
                        help="count imported qrels as people's grades (and, for the audit, as graded in full): e.g. the demo")
    parser.add_argument("--ask", action="store_true", help="let the LLM judge (FLYWHEEL_LLM) grade pairs it has not graded yet")
    parser.add_argument("--max-calls", type=int, default=200, help="most LLM calls --ask may make (default 200)")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "judges", help="each judge (llm, cross-encoder:RUN, bi-encoder:RUN, pipeline:RUN, retriever) against people's grades: "
                       "kappa, binary kappa and base rate, confusion, MAE, Kendall tau of the runs; the last stdout line is JSON")
    parser.add_argument("--judge", action="append", help="a judge to score (repeatable; default: every judge this workspace has)")
    _common(parser)
    parser.set_defaults(handler=_judges)

    parser = subparsers.add_parser(
        "estimate", help="a run's metric over every query in scope from a judge's grades and people's random audit sample "
                         "(PPI++, 95%%), beside people's audit sample alone; the last stdout line is JSON")
    parser.add_argument("--run", required=True, help="the run whose shipped pipeline is estimated")
    parser.add_argument("--judge", required=True, help="llm, cross-encoder:RUN, bi-encoder:RUN, pipeline:RUN or retriever")
    parser.add_argument("--scope", choices=["eval", "logs"], default="eval", help="eval-split queries (default) or logged queries")
    parser.add_argument("--against", default="", help="estimate the change against this run, or 'base' (the base model)")
    parser.add_argument("--audit-size", type=int, default=0, help="use only the first N queries of the audit sample (0: all graded)")
    _common(parser)
    parser.set_defaults(handler=_estimate)
