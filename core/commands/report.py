"""`flywheel report RUN_ID --out report.html`: the run's one-page HTML report, without the app."""

from __future__ import annotations

from core.commands.output import open_store, print_json
from core.settings import Settings


def _report(settings: Settings, args) -> int:
    from core.evaluation import report, results

    store = open_store(settings, create=False)
    path = report.write_report(store, args.run_id, args.out, args.metric)
    head = results.headline(results.load_run(store, args.run_id), args.metric)
    print_json({
        "run_id": args.run_id, "out": str(path), "bytes": path.stat().st_size, "metric": head["metric"],
        "before": round(head["before"], 4), "after": round(head["after"], 4), "verdict": head["verdict"],
    })
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="write a run's one-page HTML report (headline, charts, config, data counts)")
    parser.add_argument("run_id", help="the run to report on")
    parser.add_argument("--out", default="report.html", help="the HTML file to write (default: report.html)")
    parser.add_argument("--metric", default="recall@10", help="headline metric as name@k, e.g. ndcg@10 (default: recall@10)")
    parser.set_defaults(handler=_report)
