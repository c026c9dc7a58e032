"""Production logs become labels: import interactions, merge their queries, turn signals into suggestions.

An import is all or nothing: every line is checked (log_format.read_log) before anything is
written, then the new interactions, new queries and refreshed suggestions are written in one
Store.atomic. Interaction ids make a re-import add nothing.

Each distinct logged query maps to one query: the same normalised text as a stored query, else
the same words but for typos in long words (a small embedding model reads 'deductable' as
another word), else an embedding cosine ≥ MERGE_SIMILARITY (word order, small rewordings),
else a new query with origin 'log', pending review like synthetic ones. Short words
(acronyms: HSA vs FSA, HMO vs PPO) and numbers (years: 2025 vs 2026) must match exactly. Each interaction keeps the text as typed, so
the merge stays visible.

Implicit signals are suggestions (agent 'logs'), never judgments: cited or clicked → likely
relevant; ranked in the top HIGH_RANK under a thumbs-down and never cited or clicked for that
query → likely hard negative. Only a reviewer's grade or confirmation makes them labels.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError
from core.labeling.log_format import LogLine, read_log
from core.progress import Progress
from core.search.models import Embedder
from core.storage.auth import Action, User, actor_name
from core.storage.operations import Operation, operation
from core.storage.schemas import Interaction, Query, QueryOrigin, QueryStatus, Split, Suggestion, now, target
from core.storage.splits import normalise
from core.storage.store import Store

AGENT = "logs"
MERGE_SIMILARITY = 0.93  # cosine between two logged texts above which they are one query (typos, word order)
COVERAGE_SIMILARITY = 0.8  # a logged query this close to an eval query counts as covered by the eval set
HIGH_RANK = 3  # ranked this high under a thumbs-down, never cited or clicked: a likely hard negative
LIKELY_RELEVANT_GRADE = 3.0
HARD_NEGATIVE_GRADE = 0.0
HARD_NEGATIVE = "likely hard negative"
TYPO_MIN_LENGTH = 5  # shorter words are often acronyms, where one letter is another meaning
TYPO_RATIO = 0.8  # difflib ratio between a word and its typo ('deductable' ~ 'deductible': 0.9)
ENCODE_BATCH = 64
RANKING_SIZE = 20  # cap on a stored logged ranking (metrics are scored to depth 20)


@dataclass
class LogImportResult:
    name: str
    lines: int = 0
    interactions: int = 0  # new ones stored
    already_imported: int = 0  # interaction ids seen before: skipped
    new_queries: int = 0
    merged_same_text: int = 0  # logged texts that differ from their query only in case, spacing or punctuation
    merged_similar: int = 0  # logged texts merged as typos or by embedding similarity
    merges: list[dict] = field(default_factory=list)  # [{"text", "query_id", "query", "how", "similarity"}] for those
    unknown_documents: int = 0  # distinct document ids in the log that are not in the corpus (ignored for suggestions)
    unknown_document_ids: list[str] = field(default_factory=list)  # the first few, to look up
    likely_relevant: int = 0
    likely_hard_negatives: int = 0


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def is_typo_of(a: str, b: str) -> bool:
    """Same normalised words, but for typos in words of TYPO_MIN_LENGTH+ letters."""
    left, right = a.split(), b.split()
    if len(left) != len(right) or left == right:
        return False
    for x, y in zip(left, right):
        if x != y and (min(len(x), len(y)) < TYPO_MIN_LENGTH or not x.isalpha() or not y.isalpha()
                       or SequenceMatcher(None, x, y).ratio() < TYPO_RATIO):
            return False
    return True


def _encode(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    """Query vectors in batches, reporting progress (a few thousand texts take a while on CPU)."""
    out = []
    for start in range(0, len(texts), ENCODE_BATCH):
        out.append(embedder.encode_queries(texts[start : start + ENCODE_BATCH]))
        if progress:
            progress(min(start + ENCODE_BATCH, len(texts)), len(texts))
    return np.vstack(out) if out else np.zeros((0, embedder.dim), np.float32)


def _query_id(text: str) -> str:
    return "log-" + hashlib.sha1(normalise(text).encode()).hexdigest()[:10]


def _assign(store: Store, lines: list[LogLine], embedder: Embedder | None, result: LogImportResult,
            progress: Progress | None = None) -> tuple[dict[str, str], list[Query]]:
    """Map each logged text to a query id (existing or new); returns the map and the new queries."""
    stored = store.read("queries", columns=["query_id", "text"]).sort_values("query_id")
    by_norm: dict[str, str] = {}
    for qid, text in zip(stored["query_id"], stored["text"]):
        by_norm.setdefault(normalise(text), qid)
    counts = Counter(line.query for line in lines)
    groups: dict[str, list[str]] = defaultdict(list)  # normalised text -> texts as typed, most frequent first
    for text, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        groups[normalise(text)].append(text)
    mapping: dict[str, str] = {}
    unmatched = []
    for norm, texts in groups.items():
        if norm in by_norm:
            for text in texts:
                mapping[text] = by_norm[norm]
        else:
            unmatched.append(norm)
    ids, texts_of = list(stored["query_id"]), dict(zip(stored["query_id"], stored["text"]))
    vectors = fresh = None
    if embedder is not None and unmatched:
        both = _encode(embedder, list(stored["text"]) + [groups[n][0] for n in unmatched], progress)
        vectors, fresh = (both[: len(stored)] if len(stored) else None), both[len(stored) :]
    numbers_of = {q: _numbers(normalise(t)) for q, t in texts_of.items()}
    norms_of = {q: normalise(t) for q, t in texts_of.items()}
    new_queries: list[Query] = []
    for i, norm in enumerate(unmatched):
        target, how, similarity = None, "", None
        typo = next((q for q in ids if is_typo_of(norm, norms_of[q])), None)
        if typo is not None:
            target, how = typo, "typo"
        elif fresh is not None and vectors is not None and len(ids):
            sims = vectors @ fresh[i]
            sims[[numbers_of[q] != _numbers(norm) for q in ids]] = -1.0
            best = int(np.argmax(sims))
            if sims[best] >= MERGE_SIMILARITY:
                target, how, similarity = ids[best], "similar", round(float(sims[best]), 3)
        if target is not None:
            for text in groups[norm]:
                mapping[text] = target
            result.merges.append({"text": groups[norm][0], "query_id": target, "query": texts_of[target], "how": how,
                                  "similarity": similarity})
            continue
        query = Query(query_id=_query_id(norm), text=groups[norm][0], origin=QueryOrigin.log.value, generator=AGENT,
                      status=QueryStatus.pending.value, split=Split.none.value, source=f"log:{result.name}", created_at=now())
        new_queries.append(query)
        for text in groups[norm]:
            mapping[text] = query.query_id
        ids.append(query.query_id)
        texts_of[query.query_id] = query.text
        numbers_of[query.query_id], norms_of[query.query_id] = _numbers(norm), norm
        if fresh is not None:
            vectors = fresh[i : i + 1] if vectors is None else np.vstack([vectors, fresh[i : i + 1]])
    merged = {t for t, q in mapping.items() if t != texts_of.get(q)}
    similar = {t for m in result.merges for t in groups[normalise(m["text"])]}
    result.merged_same_text, result.merged_similar = len(merged - similar), len(similar)
    return mapping, new_queries


def import_logs(store: Store, path: str | Path, *, embedder: Embedder | None = None, name: str | None = None,
                actor: str | User = "cli", progress: Progress | None = None) -> LogImportResult:
    """Import a log file (all or nothing); without an embedder, queries merge on normalised text only."""
    actor = actor_name(actor, Action.import_data)
    path = Path(path)
    lines = read_log(path)
    result = LogImportResult(name=name or path.stem, lines=len(lines))
    seen: set[str] = set()
    ids = [line.interaction_id for line in lines]
    for start in range(0, len(ids), 500):
        seen |= set(store.read("interactions", where={"interaction_id": ids[start : start + 500]}, columns=["interaction_id"])["interaction_id"])
    new = [line for line in lines if line.interaction_id not in seen]
    result.already_imported = len(lines) - len(new)
    known = set(store.read("documents", columns=["doc_id"])["doc_id"])
    unknown = sorted({d for line in new for d in line.doc_ids()} - known)
    result.unknown_documents, result.unknown_document_ids = len(unknown), unknown[:10]
    if not new:
        return result
    mapping, queries = _assign(store, new, embedder, result, progress)
    stamp = now()
    rows = [Interaction(
        interaction_id=line.interaction_id, at=line.at, query=line.query, query_id=mapping[line.query],
        retrieved=json.dumps([[d, r, s] for d, r, s in line.retrieved[:RANKING_SIZE]]), cited=json.dumps(line.cited),
        clicked=json.dumps(line.clicked), thumbs=line.thumbs, comment=line.comment, session=line.session, user=line.user,
        app_version=line.app_version, source=result.name, imported_at=stamp) for line in new]
    with operation(store, journal=f"log import '{result.name}'", kind="import", actor=actor) as op:
        op.add("queries", queries)
        op.add("interactions", rows)
        result.likely_relevant, result.likely_hard_negatives = refresh_suggestions(store, sorted(set(mapping.values())), op)
        op.log(actor, "import-logs", target("log", result.name), interactions=len(rows), new_queries=len(queries), file=str(path))
    result.interactions, result.new_queries = len(rows), len(queries)
    return result


# -- reading interactions ------------------------------------------------------------------
def interactions(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    """Stored interactions with their lists decoded (retrieved, cited, clicked)."""
    where = None if query_ids is None else {"query_id": query_ids}
    frame = store.read("interactions", where=where)
    for column in ("retrieved", "cited", "clicked"):
        frame[column] = [json.loads(v) for v in frame[column]]
    return frame


def signals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (query_id, doc_id): how often shown, cited, clicked, and ranked high under a thumbs-down."""
    stats: dict[tuple[str, str], dict] = {}
    for qid, retrieved, cited, clicked, thumbs in zip(frame["query_id"], frame["retrieved"], frame["cited"], frame["clicked"], frame["thumbs"]):
        for doc_id in {d for d, _, _ in retrieved} | set(cited) | set(clicked):
            stats.setdefault((qid, doc_id), {"shown": 0, "cited": 0, "clicked": 0, "down_high": 0, "best_rank": 0})
        for doc_id, rank, _ in retrieved:
            row = stats[(qid, doc_id)]
            row["shown"] += 1
            row["best_rank"] = min(row["best_rank"] or rank, rank)
            row["down_high"] += thumbs == "down" and rank <= HIGH_RANK
        for doc_id in cited:
            stats[(qid, doc_id)]["cited"] += 1
        for doc_id in clicked:
            stats[(qid, doc_id)]["clicked"] += 1
    columns = ["query_id", "doc_id", "shown", "cited", "clicked", "down_high", "best_rank"]
    return pd.DataFrame([{"query_id": q, "doc_id": d, **s} for (q, d), s in stats.items()], columns=columns)


def refresh_suggestions(store: Store, query_ids: list[str], op: Operation) -> tuple[int, int]:
    """Recompute the 'logs' suggestions of these queries from all their interactions, writing
    through `op`; returns (likely relevant, likely hard negatives)."""
    if not query_ids:
        return 0, 0
    stats = signals(interactions(store, query_ids))
    known = set(store.read("documents", columns=["doc_id"])["doc_id"])
    stamp, rows = now(), []
    for s in stats.to_dict("records"):
        if s["doc_id"] not in known:
            continue
        if s["cited"] or s["clicked"]:
            parts = [f"cited in {s['cited']} of {s['shown']} answers" if s["cited"] else "", f"clicked {s['clicked']}×" if s["clicked"] else ""]
            rows.append(Suggestion(query_id=s["query_id"], doc_id=s["doc_id"], agent=AGENT, grade=LIKELY_RELEVANT_GRADE,
                                   score=(s["cited"] + s["clicked"]) / max(s["shown"], 1),
                                   reason="likely relevant: " + ", ".join(p for p in parts if p), created_at=stamp))
        elif s["down_high"]:
            rows.append(Suggestion(query_id=s["query_id"], doc_id=s["doc_id"], agent=AGENT, grade=HARD_NEGATIVE_GRADE,
                                   score=s["down_high"] / max(s["shown"], 1),
                                   reason=f"{HARD_NEGATIVE}: ranked #{s['best_rank']} under {s['down_high']} thumbs-down, never cited or clicked",
                                   created_at=stamp))
    op.delete("suggestions", {"agent": AGENT, "query_id": query_ids})
    op.add("suggestions", rows)
    hard = sum(r.grade == HARD_NEGATIVE_GRADE for r in rows)
    return len(rows) - hard, hard


def hard_negative_candidates(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    """Likely hard negatives from the logs: query_id, doc_id, score, source."""
    where = {"agent": AGENT, "grade": HARD_NEGATIVE_GRADE} | ({"query_id": query_ids} if query_ids is not None else {})
    rows = store.read("suggestions", where=where, columns=["query_id", "doc_id", "score", "reason"])
    return pd.DataFrame({"query_id": rows["query_id"], "doc_id": rows["doc_id"], "score": rows["score"],
                         "source": "logs: " + rows["reason"].str.removeprefix(HARD_NEGATIVE + ": ")})


def thumbs_down_share(store: Store) -> dict[str, float]:
    """Per logged query, the share of its interactions with a thumbs-down (the 'thumbs-down first' queue)."""
    frame = store.read("interactions", columns=["query_id", "thumbs"])
    if frame.empty:
        return {}
    return (frame["thumbs"] == "down").groupby(frame["query_id"]).mean().to_dict()


def logged_rankings(store: Store, query_ids: list[str] | None = None) -> dict[str, list[tuple[str, float]]]:
    """Per query, production's ranking as logged (its latest interaction), for scoring production itself."""
    frame = interactions(store, query_ids)
    if frame.empty:
        return {}
    latest = frame.sort_values("at").groupby("query_id").tail(1)
    return {q: [(d, float(s) if s is not None else float(-r)) for d, r, s in retrieved]
            for q, retrieved in zip(latest["query_id"], latest["retrieved"]) if retrieved}


# -- promotion -----------------------------------------------------------------------------
def promote(store: Store, reviewer: str | User, query_id: str, to: str) -> None:
    """A logged query to the review queue (pending again) or straight to the eval split (approved)."""
    reviewer = actor_name(reviewer, Action.train if to == "eval" else Action.import_data)
    if to not in ("review", "eval"):
        raise InputError(f"promoting a logged query expects 'review' or 'eval', but got '{to}'")
    if not (reviewer or "").strip():
        raise InputError("promoting a logged query expects a reviewer name, but got none. Enter your name in the sidebar.")
    if not store.count("queries", {"query_id": query_id}):
        raise InputError(f"promoting expects a known query id, but got '{query_id}'. Pick a query from the list.")
    values = ({"status": QueryStatus.pending.value, "reviewer": None, "reviewed_at": None} if to == "review" else
              {"status": QueryStatus.approved.value, "split": Split.eval.value, "reviewer": reviewer.strip(), "reviewed_at": now()})
    row = store.read_rows("queries", {"query_id": query_id})[0]
    with operation(store) as op:
        op.upsert("queries", [row | values])
        op.log(reviewer.strip(), "promote", target("query", query_id), to=to)


# -- the Logs page -------------------------------------------------------------------------
def overview(store: Store) -> dict:
    """Traffic and feedback: per-day counts, feedback rate, thumbs-down share, top queries, uncited queries."""
    frame = interactions(store)
    if frame.empty:
        return {"interactions": 0}
    queries = store.read("queries", where={"query_id": set(frame["query_id"])}, columns=["query_id", "text", "origin", "status", "split"])
    per_day = frame.groupby(frame["at"].dt.floor("D")).size().rename("interactions").rename_axis("day").reset_index()
    grouped = frame.groupby("query_id")
    top = pd.DataFrame({
        "interactions": grouped.size(),
        "variants": grouped["query"].nunique(),
        "thumbs_down": grouped["thumbs"].apply(lambda t: int((t == "down").sum())),
        "cited_top": grouped.apply(lambda g: any(set(c) & {d for d, r, _ in ret if r <= HIGH_RANK} for c, ret in zip(g["cited"], g["retrieved"])),
                                   include_groups=False),
    }).reset_index().merge(queries, on="query_id", how="left")
    top = top.sort_values(["interactions", "query_id"], ascending=[False, True]).reset_index(drop=True)
    columns = ["query_id", "text", "interactions", "variants", "thumbs_down", "origin", "status", "split"]
    return {
        "interactions": len(frame),
        "queries": int(frame["query_id"].nunique()),
        "per_day": per_day,
        "feedback_rate": float((frame["thumbs"] != "").mean()),
        "thumbs_down_share": float((frame["thumbs"] == "down").sum() / max((frame["thumbs"] != "").sum(), 1)),
        "top_queries": top[columns],
        "uncited": top[~top["cited_top"].astype(bool)][columns].reset_index(drop=True),
    }


def variants(store: Store, query_id: str) -> pd.DataFrame:
    """The texts as typed that were merged into one query, with their counts (the visible merge)."""
    frame = store.read("interactions", where={"query_id": query_id}, columns=["query"])
    return frame["query"].value_counts().rename_axis("typed").reset_index(name="interactions")


def eval_coverage(store: Store, embedder: Embedder, threshold: float = COVERAGE_SIMILARITY) -> dict:
    """Share of logged traffic whose query has an eval query within `threshold` cosine (by nearest eval query)."""
    frame = store.read("interactions", columns=["query_id", "query"])
    evals = store.split_queries(Split.eval, columns=["query_id", "text"])
    if frame.empty:
        return {"covered_share": 0.0, "interactions": 0, "eval_queries": len(evals), "threshold": threshold}
    texts = sorted(set(frame["query"]))
    best = dict.fromkeys(texts, 0.0)
    if len(evals):
        sims = embedder.encode_queries(texts) @ embedder.encode_queries(list(evals["text"])).T
        best = dict(zip(texts, sims.max(axis=1).tolist()))
    eval_ids = set(evals["query_id"])
    covered = [qid in eval_ids or best[text] >= threshold for qid, text in zip(frame["query_id"], frame["query"])]
    return {"covered_share": float(np.mean(covered)), "interactions": len(frame), "eval_queries": len(evals), "threshold": threshold}
