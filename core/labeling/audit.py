"""The audit sample: a random, seeded order of the queries in scope (the eval split, or logged
queries) that people grade in full, in that order, to a fixed depth.

A judge's grades can stand in for people's only where a *random* sample of people's grades
measures its bias (core.evaluation.ppi). Random means the order is fixed before anyone grades
(a hash of a seed and the query id, so it is the same for every reviewer and process, and a
query added later lands at a random place), and the sample is the longest run of that order
graded in full: a query skipped because it was hard holds back the ones after it, rather than
leaving the easy ones in the sample.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.errors import InputError
from core.storage.schemas import IMPORT_REVIEWER, QueryOrigin, QueryStatus, Split
from core.storage.store import Store

SEED = "audit-v1"
DEPTH = 10  # a query is audited once one person graded this many of its candidates (or all, when fewer documents)
SCOPES = {"eval": "eval-split queries", "logs": "logged queries"}


def _check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InputError(f"an audit scope expects one of {', '.join(SCOPES)}, but got '{scope}'.")
    return scope


def scope_queries(store: Store, scope: str) -> list[str]:
    """Approved queries in scope: the eval split, or the queries people typed into the team's app."""
    if _check_scope(scope) == "eval":
        return sorted(store.split_queries(Split.eval)["query_id"])
    return sorted(store.read("queries", where={"status": QueryStatus.approved, "origin": QueryOrigin.log}, columns=["query_id"])["query_id"])


def _point(query_id: str, seed: str) -> str:
    return hashlib.sha1(f"{seed}:{query_id}".encode()).hexdigest()


def order(query_ids: Iterable[str], seed: str = SEED) -> list[str]:
    """The audit order: a seeded pseudo-random permutation that a new query does not reshuffle."""
    return sorted(set(query_ids), key=lambda q: (_point(q, seed), q))


@dataclass
class Audit:
    scope: str
    depth: int
    order: list[str]  # every query in scope, in audit order
    sample: list[str]  # the longest prefix of `order` graded in full: the random sample estimates may use
    out_of_order: list[str] = field(default_factory=list)  # graded in full beyond a gap: not in the sample until the gap is graded

    @property
    def next_gap(self) -> str | None:
        """The first query of the order not graded in full (grading it grows the sample)."""
        return self.order[len(self.sample)] if len(self.sample) < len(self.order) else None

    def progress_line(self) -> str:
        text = (f"Audit sample: {len(self.sample)} of {len(self.order)} {SCOPES[self.scope]} graded in full "
                f"(to depth {self.depth}), in a random order")
        if self.out_of_order:
            text += f"; {len(self.out_of_order)} more graded after a gap count once the gap is graded"
        return text + "."


def complete(store: Store, query_ids: list[str], depth: int = DEPTH, include_imports: bool = False) -> set[str]:
    """Queries one person graded in full: `depth` of their candidates (fewer when the workspace
    has fewer documents). With `include_imports`, a query with imported qrels counts as graded in
    full (an import is the team's complete judgments, e.g. a benchmark's)."""
    if not query_ids:
        return set()
    need = max(1, min(depth, store.count("documents")))
    judged = store.read("judgments", columns=["query_id", "reviewer"])
    judged = judged[judged["query_id"].isin(set(query_ids))]
    imported = judged["reviewer"].str.startswith(IMPORT_REVIEWER)
    counts = judged[~imported].groupby(["query_id", "reviewer"]).size()
    done = {q for (q, _), n in counts.items() if n >= need}
    if include_imports:
        done |= set(judged.loc[imported, "query_id"])
    return done


def audit(store: Store, scope: str = "eval", depth: int = DEPTH, include_imports: bool = False, seed: str = SEED) -> Audit:
    """Where the audit sample of a scope stands."""
    ids = order(scope_queries(store, scope), seed)
    done = complete(store, ids, depth, include_imports)
    prefix = next((i for i, q in enumerate(ids) if q not in done), len(ids))
    return Audit(scope, depth, ids, ids[:prefix], [q for q in ids[prefix:] if q in done])
