"""Train/eval split of queries: seeded, persisted on the queries rows, no leakage.

Imported splits are kept; only approved queries still at split "none" are assigned, by
`flywheel split`, the Train page's button, or at the start of any run or evaluation
(`assign_unassigned`), so a fresh import trains with no extra step. Queries
with the same normalised text form one group and always land on the same side, and groups
are stratified by their source document (or best-graded document) so every topic shows up
in both halves where it can.
"""

from __future__ import annotations

import os
import random
import re
from collections import defaultdict

from core.errors import InputError
from core.storage.auth import Action, User, actor_name
from core.storage.operations import Operation, operation
from core.storage.schemas import QueryStatus, Split
from core.storage.store import Store, sql_in, sql_str

DEFAULT_EVAL_FRACTION = 0.3


def normalise(text: str) -> str:
    """Case, punctuation and spacing do not make two queries different."""
    return re.sub(r"\W+", " ", str(text).lower()).strip()


def _doc_id(value: object) -> str:
    """A source document id, or '' for none: a missing one reads back as None or as NaN (a float),
    depending on the other rows of the column, and NaN is truthy and does not sort with strings."""
    return value if isinstance(value, str) else ""


def _strata(store: Store, query_ids: list[str], source_doc: dict[str, object]) -> dict[str, str]:
    """Stratum per query: its source document, else the document it graded highest, else ''."""
    best: dict[str, tuple[int, str]] = {}
    if query_ids:
        rows = store.read("judgments", where=sql_in("query_id", query_ids), columns=["query_id", "doc_id", "grade"])
        for qid, did, grade in zip(rows["query_id"], rows["doc_id"], rows["grade"]):
            if qid not in best or (int(grade), did) > best[qid]:
                best[qid] = (int(grade), did)
    return {q: _doc_id(source_doc.get(q)) or (best[q][1] if q in best and best[q][0] > 0 else "") for q in query_ids}


def assign_splits(store: Store, eval_fraction: float = DEFAULT_EVAL_FRACTION, seed: int = 0, reset: bool = False,
                  actor: str | User = "cli") -> dict[str, int]:
    """Assign approved, unsplit queries to train or eval and persist it; returns the counts.

    `reset` first clears every split (imported ones too) so the whole set is re-drawn.
    """
    name = actor_name(actor, Action.train)
    if not 0.0 < eval_fraction < 1.0:
        raise InputError(f"split expects an eval fraction between 0 and 1, but got {eval_fraction}. Use e.g. 0.3.")
    approved = f"status = {sql_str(QueryStatus.approved.value)}"
    with operation(store) as op:  # a failure half-way leaves every split as it was
        if reset:
            op.update("queries", approved, {"split": Split.none.value})
        _assign(op, eval_fraction, seed)
        counts = split_counts(store)
        op.log(name, "split", "queries", eval_fraction=eval_fraction, seed=seed, reset=reset, **counts)
    return counts


def _assign(op: Operation, eval_fraction: float, seed: int) -> None:
    """Draw train/eval for every approved query not yet on a side, stratified by source."""
    store, approved = op.store, f"status = {sql_str(QueryStatus.approved.value)}"
    frame = store.read("queries", where=approved, columns=["query_id", "text", "source_doc_id", "split"])
    # A new query whose text already sits on one side joins that side.
    side_of_text = {normalise(t): s for t, s in zip(frame["text"], frame["split"]) if s != Split.none.value}
    todo = frame[frame["split"] == Split.none.value]
    assigned: dict[str, list[str]] = {Split.train.value: [], Split.eval.value: []}
    groups: dict[str, list[str]] = defaultdict(list)
    for qid, text in zip(todo["query_id"], todo["text"]):
        side = side_of_text.get(normalise(text))
        if side in assigned:
            assigned[side].append(qid)
        else:
            groups[normalise(text)].append(qid)
    ids = [q for members in groups.values() for q in members]
    strata = _strata(store, ids, dict(zip(todo["query_id"], todo["source_doc_id"])))
    by_stratum: dict[str, list[list[str]]] = defaultdict(list)
    for members in groups.values():
        by_stratum[strata[members[0]]].append(sorted(members))
    rng = random.Random(seed)
    ordered: list[list[str]] = []
    for key in sorted(by_stratum):
        members = sorted(by_stratum[key])
        rng.shuffle(members)
        ordered.extend(members)
    # Systematic sampling over the stratum-ordered groups: every stratum gets its share.
    offset = rng.random()
    for i, members in enumerate(ordered):
        side = Split.eval.value if int((i + 1) * eval_fraction + offset) > int(i * eval_fraction + offset) else Split.train.value
        assigned[side].extend(members)
    for side, qids in assigned.items():
        for start in range(0, len(qids), 500):
            op.update("queries", sql_in("query_id", qids[start : start + 500]), {"split": side})


def assign_unassigned(store: Store, actor: str | User = "cli") -> dict[str, int] | None:
    """Give approved queries with no side one (the seeded default) before a run or an evaluation
    reads the split; None when there were none. A rank of a multi-process launch never draws:
    every rank would write at once, so those launches need `flywheel split` first."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 or not split_counts(store)[Split.none.value]:
        return None
    return assign_splits(store, actor=actor)


def split_counts(store: Store) -> dict[str, int]:
    approved = f"status = {sql_str(QueryStatus.approved.value)}"
    return {side.value: store.count("queries", f"{approved} AND split = {sql_str(side.value)}") for side in Split}


def leaked_texts(store: Store) -> set[str]:
    """Normalised query texts present in both train and eval (should be empty)."""
    frame = store.read("queries", where=f"split != {sql_str(Split.none.value)}", columns=["text", "split"])
    sides: dict[str, set[str]] = defaultdict(set)
    for text, split in zip(frame["text"], frame["split"]):
        sides[normalise(text)].add(split)
    return {t for t, s in sides.items() if {Split.train.value, Split.eval.value} <= s}
