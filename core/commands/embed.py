"""`flywheel embed [--ray [ADDRESS]]`: embed the corpus ahead of time, here or on a Ray cluster.

Search, evaluation and training embed what is missing on their own; this command does it up
front (a large import, a new model) and, with --ray, spreads it over a cluster. Both fill the
same embeddings table, so either one's work is reused by the other.
"""

from __future__ import annotations

import time

from core.commands.output import bars, open_store, print_json
from core.errors import InputError
from core.search.precision import PRECISIONS
from core.settings import Settings


def _embed(settings: Settings, args) -> int:
    if args.ray is None and (args.workers or args.gpus_per_worker):
        raise InputError("embed expects --workers and --gpus-per-worker only with --ray; add --ray, or leave them out to embed here.")
    if args.workers < 0 or args.gpus_per_worker < 0:
        raise InputError(f"embed expects --workers and --gpus-per-worker of 0 or more, but got {args.workers} and {args.gpus_per_worker:g}.")
    store = open_store(settings, create=False)
    started = time.perf_counter()
    if args.ray is not None:
        from core.search.ray_embed import embed_with_ray

        result = embed_with_ray(store, args.model or None, args.ray, workers=args.workers, gpus_per_worker=args.gpus_per_worker,
                                precision=args.precision)
    else:
        from core.search.models import Embedder
        from core.search.retrieval import ensure_corpus_embeddings

        embedder = Embedder(args.model or None, precision=args.precision)
        with bars(args, "embedding documents") as progress:
            embedded = ensure_corpus_embeddings(store, embedder, progress)
        table = store.embeddings_name(embedder.key)
        result = {"model_key": embedder.key, "precision": embedder.precision, "embedded": embedded, "documents": store.count("documents"), "rows": store.count(table)}
    print_json(result | {"seconds": round(time.perf_counter() - started, 2)})
    return 0


def register(subparsers) -> None:
    embed = subparsers.add_parser("embed", help="embed new or edited documents for a model (here, or on Ray with --ray); prints JSON")
    embed.add_argument("--model", default="", help="bi-encoder or adapter folder, or hub id (default: the bundled MiniLM)")
    embed.add_argument("--precision", default=None, choices=PRECISIONS,
                       help="default: the FLYWHEEL_PRECISION setting, else auto: bf16 autocast where the CPU or GPU computes it natively; "
                            "fp32 forces float32. Each precision fills its own embeddings table")
    embed.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                       help="embed with Ray Data: on the cluster at ADDRESS (e.g. auto on a cluster node), or a local one when omitted")
    embed.add_argument("--workers", type=int, default=0, help="--ray: encoder actors (default: one per CPU of the cluster)")
    embed.add_argument("--gpus-per-worker", type=float, default=0.0, help="--ray: GPUs per encoder actor (default 0: CPUs)")
    embed.set_defaults(handler=_embed)
