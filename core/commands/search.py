"""`flywheel search --run RUN_ID "query"`: what a run's shipped pipeline returns, as JSON lines."""

from __future__ import annotations

from pathlib import Path

from core.commands.output import bars, open_store, print_json
from core.settings import Settings


def _search(settings: Settings, args) -> int:
    from core.training.jobs import read_run
    from core.training.pipeline import load_pipeline

    store = open_store(settings, create=False)
    run = read_run(store, args.run)
    with bars(args, "loading the run's pipeline") as progress:
        pipeline = load_pipeline(Path(run["model_path"]).parent, store)
        progress(0, 0, "searching")
        hits = pipeline.search(args.query, args.k)
    for hit in hits:
        print_json(hit)
    return 0


def register(subparsers) -> None:
    search = subparsers.add_parser("search", help="rank the workspace's documents with a run's shipped pipeline (one JSON line per hit)")
    search.add_argument("query", help="the query text")
    search.add_argument("--run", required=True, help="the run whose pipeline.json to use (see `flywheel runs`)")
    search.add_argument("--k", type=int, default=10, help="how many documents (default 10)")
    search.set_defaults(handler=_search)
