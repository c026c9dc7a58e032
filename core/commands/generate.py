"""`flywheel generate` (synthetic queries for documents) and `flywheel review-status` (the queue per generator)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.commands.output import bars, open_store
from core.labeling.generation import Selection, Style, generate, make_generator, select_documents
from core.labeling.review import review_summary
from core.settings import Settings


def register(subparsers) -> None:
    gen = subparsers.add_parser("generate", help="write synthetic queries (pending review) for documents")
    gen.add_argument("--n", type=int, default=20, help="how many queries to write in all (default 20)")
    gen.add_argument("--provider", help="'openai/<model>', 'anthropic/…', 'cohere/…', 'ollama/…' or 'offline' (default: $FLYWHEEL_LLM, else offline)")
    gen.add_argument("--style", choices=[s.value for s in Style], default=Style.question.value)
    gen.add_argument("--per-doc", type=int, default=1, help="queries per document (default 1)")
    gen.add_argument("--select", choices=[s.name for s in Selection], default=Selection.unqueried.name,
                     help="which documents: unqueried (never-queried first, default), random, search")
    gen.add_argument("--search", default="", help="search text for --select search")
    gen.add_argument("--no-examples", action="store_true", help="do not add approved queries to the prompt as few-shot examples")
    gen.add_argument("--fewshot-set", help="use this curated few-shot set's examples (Review page) instead of the latest approved queries")
    gen.add_argument("--seed", type=int)
    gen.set_defaults(handler=run_generate)

    status = subparsers.add_parser("review-status", help="pending / approved / rejected per generator, as JSON lines")
    status.set_defaults(handler=run_status)


def run_generate(settings: Settings, args: argparse.Namespace) -> int:
    from core.errors import InputError

    if args.n < 1:
        raise InputError(f"--n expects a positive number of queries, but got {args.n}")
    store = open_store(settings)
    generator = make_generator(settings, args.provider, seed=args.seed)
    if generator.name.startswith("offline"):
        print("note: no LLM provider configured (FLYWHEEL_LLM or --provider): using the offline generator", file=sys.stderr)
    docs = select_documents(store, math.ceil(args.n / args.per_doc), Selection[args.select], search_text=args.search, seed=args.seed)

    with bars(args, "writing queries") as progress:
        result = generate(store, generator, docs, style=args.style, per_doc=args.per_doc, limit=args.n,
                          use_examples=not args.no_examples, fewshot_set=args.fewshot_set, progress=progress)
    print(json.dumps({"generator": result.generator, "written": len(result.written), "documents": result.docs_done,
                      "duplicates_skipped": result.skipped_duplicates}))
    return 0


def run_status(settings: Settings, args: argparse.Namespace) -> int:
    for row in review_summary(open_store(settings, create=False)).to_dict("records"):
        rate = row["approval_rate"]
        print(json.dumps({**row, "approval_rate": None if math.isnan(rate) else round(rate, 4)}, default=str))
    return 0
