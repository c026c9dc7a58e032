"""`flywheel import-logs PATH`: production interaction logs become queries, suggestions and hard-negative candidates."""

from __future__ import annotations

from dataclasses import asdict

from core.commands.output import bars, open_store, print_json
from core.settings import Settings


def _import_logs(settings: Settings, args) -> int:
    from core.labeling.logs import import_logs
    from core.search.models import Embedder

    embedder = None if args.exact_only else Embedder(args.model)
    with bars(args, "embedding logged queries to merge near-duplicates") as progress:
        result = import_logs(open_store(settings), args.path, embedder=embedder, name=args.name, progress=progress)
    print_json(asdict(result))
    return 0


def register(subparsers) -> None:
    imp = subparsers.add_parser("import-logs", help="import a RAG interaction log (.jsonl or .csv; all or nothing, re-import adds nothing)")
    imp.add_argument("path")
    imp.add_argument("--name", help="name of this log (default: the file name)")
    imp.add_argument("--model", help="embedding model that merges near-duplicate queries (default: the bundled MiniLM)")
    imp.add_argument("--exact-only", action="store_true", help="merge queries on normalised text only (no model loaded)")
    imp.set_defaults(handler=_import_logs)
