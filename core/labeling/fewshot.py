"""The few-shot library: approved queries curated into named sets (by style or segment).

A set is an ordered list of approved queries; the generator can use one set's examples
instead of the latest approved queries, and `flywheel export --format fewshot` writes every
set as JSON a team can paste into its own prompts, with who approved each example.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.errors import InputError
from core.storage.operations import Operation, operation
from core.storage.schemas import FewShotExample, QueryStatus, now, target
from core.storage.store import Store

COLUMNS = ["position", "query_id", "text", "approved_by", "approved_at", "source_doc_id", "doc_title", "pinned_by"]


def _name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise InputError("a few-shot set expects a name (e.g. 'keyword', 'members'), but got none. Type a set name.")
    return clean


def set_names(store: Store) -> list[str]:
    return sorted(set(store.read("fewshot", columns=["set_name"])["set_name"]))


def members(store: Store, name: str) -> pd.DataFrame:
    """A set's examples in order, with the query text, who approved it and its document's title."""
    rows = store.read("fewshot", where={"set_name": _name(name)}, columns=["query_id", "position", "pinned_by"])
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    queries = store.read("queries", where={"query_id": rows["query_id"]},
                         columns=["query_id", "text", "reviewer", "reviewed_at", "source_doc_id"])
    frame = rows.merge(queries, on="query_id", how="inner").rename(columns={"reviewer": "approved_by", "reviewed_at": "approved_at"})
    docs = store.read("documents", where={"doc_id": frame["source_doc_id"].dropna()}, columns=["doc_id", "title"])
    frame["doc_title"] = frame["source_doc_id"].map(dict(zip(docs["doc_id"], docs["title"]))).fillna("")
    return frame.sort_values(["position", "query_id"]).reset_index(drop=True)[COLUMNS]


def approved_queries(store: Store, limit: int = 500) -> dict[str, str]:
    """query id -> text of approved queries, most recently reviewed first: what can be pinned."""
    rows = store.read("queries", where={"status": QueryStatus.approved}, columns=["query_id", "text", "reviewed_at"])
    rows = rows.sort_values(["reviewed_at", "query_id"], ascending=[False, True], na_position="last").head(limit)
    return dict(zip(rows["query_id"], rows["text"]))


def _write_order(op: Operation, name: str, query_ids: list[str], pinned_by: dict[str, str], actor: str) -> None:
    stamp = now()
    rows = [FewShotExample(set_name=name, query_id=q, position=i, pinned_by=pinned_by.get(q, actor), pinned_at=stamp)
            for i, q in enumerate(query_ids)]
    op.upsert("fewshot", rows)


def pin(store: Store, actor: str, name: str, query_id: str) -> None:
    """Add an approved query at the end of the set (a no-op when it is already there)."""
    name = _name(name)
    row = store.read("queries", where={"query_id": query_id}, columns=["status"])
    if row.empty or row["status"].iloc[0] != QueryStatus.approved.value:
        raise InputError(f"a few-shot example expects an approved query, but '{query_id}' is "
                         f"{'unknown' if row.empty else row['status'].iloc[0]}; approve it on the Review page first.")
    current = members(store, name)
    if query_id in set(current["query_id"]):
        return
    with operation(store) as op:
        op.upsert("fewshot", [FewShotExample(set_name=name, query_id=query_id, position=len(current), pinned_by=actor, pinned_at=now())])
        op.log(actor, "pin", target("query", query_id), set=name)


def unpin(store: Store, actor: str, name: str, query_id: str) -> None:
    name = _name(name)
    with operation(store) as op:
        op.delete("fewshot", {"set_name": name, "query_id": query_id})
        rest = members(store, name)
        _write_order(op, name, list(rest["query_id"]), dict(zip(rest["query_id"], rest["pinned_by"])), actor)
        op.log(actor, "unpin", target("query", query_id), set=name)


def move(store: Store, actor: str, name: str, query_id: str, offset: int) -> None:
    """Move an example up (offset < 0) or down in its set."""
    name = _name(name)
    current = members(store, name)
    order = list(current["query_id"])
    if query_id not in order:
        raise InputError(f"reordering expects an example of set '{name}', but '{query_id}' is not in it.")
    i = order.index(query_id)
    j = min(max(i + offset, 0), len(order) - 1)
    order.insert(j, order.pop(i))
    with operation(store) as op:
        _write_order(op, name, order, dict(zip(current["query_id"], current["pinned_by"])), actor)
        op.log(actor, "reorder", target("query", query_id), set=name, position=j)


def examples(store: Store, name: str) -> list[tuple[str, str]]:
    """(query, document title) pairs of a set, in order: what the generator imitates."""
    frame = members(store, name)
    if frame.empty:
        raise InputError(f"generation expects a few-shot set with examples, but '{name}' has none; pin approved queries on the Review page.")
    return list(zip(frame["text"], frame["doc_title"]))


def export_fewshot(store: Store, out: Path) -> dict[str, int]:
    """Every set as JSON: {"sets": {name: [{"query", "document_title", "approved_by", "approved_at", "query_id"}]}}."""
    path = out / "fewshot.json" if out.is_dir() or not out.suffix else out
    path.parent.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name in set_names(store):
        frame = members(store, name)
        sets[name] = [{"query": t, "document_title": d, "approved_by": a, "approved_at": None if pd.isna(w) else pd.Timestamp(w).isoformat(),
                       "query_id": q} for q, t, d, a, w in zip(frame["query_id"], frame["text"], frame["doc_title"], frame["approved_by"],
                                                              frame["approved_at"])]
    path.write_text(json.dumps({"sets": sets}, indent=2, ensure_ascii=False))
    return {"fewshot_sets": len(sets), "fewshot_examples": sum(len(v) for v in sets.values())}
