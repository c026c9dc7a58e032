"""`flywheel judgments`: who graded how much, how much they agree, and the hard negatives."""

from __future__ import annotations

import math

from core.commands.output import open_store, print_json
from core.settings import Settings
from core.storage.store import Store


def _clean(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def summary(store: Store, include_imports: bool = False) -> dict:
    """The same figures as the Agreement page, as one JSON-able dict."""
    from core.labeling import agreement, grading

    judgments = agreement.read_judgments(store, include_imports=True)
    people = judgments[judgments["reviewer"].map(grading.is_human)]
    scored = judgments if include_imports else people
    result = agreement.agreement(scored)
    stats = agreement.reviewer_stats(store, include_imports=include_imports)
    return {
        "judgments": len(judgments),
        "by_people": len(people),
        "imported": len(judgments) - len(people),
        "gradeable_queries": len(grading.gradeable_queries(store)),
        "queries_graded": int(people["query_id"].nunique()) if len(people) else 0,
        "hard_negatives": int(judgments["hard_negative"].sum()) if len(judgments) else 0,
        "grades": {str(g): int((judgments["grade"] == g).sum()) for g in grading.GRADES},
        "agreement": {
            "items": result.items,
            "krippendorff_alpha_ordinal": _clean(result.alpha),
            "exact": _clean(result.exact),
            "within_one": _clean(result.within_one),
            "pairs": [{k: _clean(v) for k, v in row.items()} for row in result.pairs.to_dict("records")],
        },
        "reviewers": [{k: _clean(v) for k, v in row.items()} for row in stats.to_dict("records")],
    }


def _judgments(settings: Settings, args) -> int:
    print_json(summary(open_store(settings, create=False), include_imports=args.include_imports))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("judgments", help="summary of the relevance judgments: counts, agreement (kappa, alpha), reviewers")
    parser.add_argument("--include-imports", action="store_true", help="count imported qrels (reviewer import:*) as reviewers in the agreement figures")
    parser.set_defaults(handler=_judgments)
