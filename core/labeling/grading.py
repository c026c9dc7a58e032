"""Relevance grading: store a reviewer's 0–5 grade, undo it, and decide what to grade next.

A grade is one `judgments` row per (query, doc, reviewer), upserted so a re-grade replaces
the old one (keeping when it was first graded), with an `events` row that remembers the
previous state: undo restores it, across reloads and processes.

The queue works on queries: a reviewer grades a query's top-k candidates in one sitting.
Fresh queries are claimed on queue 'grade' so two reviewers never get the same one; a share
of finished queries is offered once more to a second reviewer on queue 'grade-overlap', so
agreement can be measured. A queue can be restricted to a segment of the queries (by split,
source, origin or query style), so guidance about a thin segment leads straight to its queries.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InputError
from core.labeling import audit, logs
from core.labeling.labels import FLYWHEEL_TOP, GRADE_MEANINGS, IMPORT_REVIEWER
from core.labeling.text import query_style
from core.search.models import Embedder
from core.search.retrieval import SearchMode, corpus_matrix, rank_many, search
from core.storage import claims
from core.storage.filters import After, AtLeast
from core.storage.operations import Operation, operation
from core.storage.schemas import UNDO_KEY, Event, Judgment, QueryStatus, now, parse_target, target
from core.storage.store import Store

QUEUE = "grade"
OVERLAP_QUEUE = "grade-overlap"
GRADES = tuple(range(FLYWHEEL_TOP + 1))
UNDO_WINDOW = timedelta(hours=12)  # undo reaches back this far (a working session)
GAP_SCALE = 0.1  # cosine gap between the top two candidates below which a query counts as uncertain

__all__ = ["GRADE_MEANINGS", "Strategy", "Segment", "QueueItem", "grade", "undo_last", "next_query", "segment_options"]
SEGMENT_COLUMNS = ("split", "source", "origin", "style")  # style: question | keyword (text.query_style)


class Strategy(StrEnum):
    ungraded = "ungraded first"
    uncertain = "most uncertain first"
    overlap = "overlap first"
    thumbs_down = "thumbs-down first"
    segment = "one segment, least judged first"
    audit = "audit sample: eval queries, random order"  # core.labeling.audit: what estimates may use
    audit_logs = "audit sample: logged queries, random order"


AUDIT_SCOPES = {Strategy.audit: "eval", Strategy.audit_logs: "logs"}


@dataclass(frozen=True)
class Segment:
    """Queries whose columns all hold the given values; spelled 'split:eval,source:log' in links and the CLI."""

    conditions: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Segment:
        conditions = []
        for part in (text or "").split(","):
            column, sep, value = part.partition(":")
            if not sep or column.strip() not in SEGMENT_COLUMNS:
                raise InputError(f"a segment expects column:value pairs joined by ',' with columns in {', '.join(SEGMENT_COLUMNS)} "
                                 f"(e.g. source:log or split:eval,style:question), but got '{text}'.")
            conditions.append((column.strip(), value.strip()))
        return cls(tuple(conditions))

    def __str__(self) -> str:
        return ",".join(f"{c}:{v}" for c, v in self.conditions)

    @property
    def label(self) -> str:
        return " · ".join(f"{c}: {v or '(none)'}" for c, v in self.conditions)

    def mask(self, queries: pd.DataFrame) -> pd.Series:
        """Which rows of a frame with query_id, text, split, source and origin fall in the segment."""
        keep = pd.Series(True, index=queries.index)
        for column, value in self.conditions:
            values = queries["text"].map(query_style) if column == "style" else queries[column].fillna("").astype(str)
            keep &= values == value
        return keep


@dataclass(frozen=True)
class QueueItem:
    queue: str  # QUEUE or OVERLAP_QUEUE
    query_id: str


def is_human(reviewer: str) -> bool:
    return not reviewer.startswith(IMPORT_REVIEWER)


def _check_reviewer(reviewer: str) -> str:
    name = (reviewer or "").strip()
    if not name or not is_human(name):
        raise InputError(f"grading expects a reviewer name (not empty, not '{IMPORT_REVIEWER}…'), but got '{reviewer}'. Enter your name.")
    return name


# -- reads ---------------------------------------------------------------------------------
def gradeable_queries(store: Store) -> pd.DataFrame:
    """Approved queries of any split, oldest first (the order they were created)."""
    frame = store.read("queries", where={"status": QueryStatus.approved},
                       columns=["query_id", "text", "split", "source", "origin", "created_at"])
    return frame.sort_values(["created_at", "query_id"], kind="stable").reset_index(drop=True)


def query_text(store: Store, query_id: str) -> str:
    rows = store.read("queries", where={"query_id": query_id}, columns=["text"])
    if rows.empty:
        raise InputError(f"grading expects a known query id, but got '{query_id}'. Pick a query from the list.")
    return str(rows["text"].iloc[0])


def judgments_for(store: Store, query_id: str, reviewer: str | None = None) -> pd.DataFrame:
    """Judgments of one query (one reviewer's, when given)."""
    where = {"query_id": query_id} | ({"reviewer": reviewer} if reviewer is not None else {})
    return store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative", "note", "created_at", "updated_at"])


def candidates(
    store: Store, embedder: Embedder | None, query_id: str, k: int = 10, mode: SearchMode | str = SearchMode.hybrid, include: Iterable[str] = ()
) -> pd.DataFrame:
    """The query's top-k documents from the current retriever: doc_id, score, rank, title, text;
    documents in `include` (a re-grade) are added at the end when the retriever misses them."""
    if not 1 <= int(k) <= 100:
        raise InputError(f"grading expects k between 1 and 100 candidates, but got {k}.")
    hits = search(store, embedder, query_text(store, query_id), int(k), mode)
    missing = [d for d in include if d not in set(hits["doc_id"])]
    if missing:
        extra = store.read("documents", where={"doc_id": missing}, columns=["doc_id", "title", "text"])
        extra = extra.assign(score=float("nan"), rank=0)
        hits = pd.concat([hits, extra[hits.columns]], ignore_index=True)
    return hits


# -- writes --------------------------------------------------------------------------------
def stored_grade(store: Store, reviewer: str, query_id: str, doc_id: str) -> list[dict]:
    """This reviewer's stored judgment of the pair, as a list of at most one row (read once and
    handed to the write, which needs it both as "previous" and as what to restore on failure)."""
    return store.read_rows("judgments", {"query_id": query_id, "doc_id": doc_id, "reviewer": reviewer})[:1]


def _plain(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {
        "grade": int(row["grade"]),
        "hard_negative": bool(row["hard_negative"]),
        "note": str(row["note"] or ""),
        "origin": str(row.get("origin") or ""),
        "created_at": pd.Timestamp(row["created_at"]).isoformat(),
        "updated_at": pd.Timestamp(row["updated_at"]).isoformat(),
    }


def grade(store: Store, reviewer: str, query_id: str, doc_id: str, value: int, *, hard_negative: bool = False, note: str = "",
          origin: str = "") -> dict | None:
    """Store one grade (replacing this reviewer's earlier one) and its event; returns the previous state.
    `origin`: the suggestion's agent when the reviewer accepted its grade (kept, so it is never counted silently)."""
    with operation(store) as op:
        return write_grade(op, reviewer, query_id, doc_id, value, hard_negative=hard_negative, note=note, origin=origin)


def write_grade(op: Operation, reviewer: str, query_id: str, doc_id: str, value: int, *, hard_negative: bool = False,
                note: str = "", stored: list[dict] | None = None, origin: str = "") -> dict | None:
    """`grade` as one step of a caller's operation (a hard-negative confirm writes its own event
    beside it: both land or neither)."""
    reviewer = _check_reviewer(reviewer)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) not in GRADES:
        raise InputError(f"a grade expects an integer 0–{FLYWHEEL_TOP}, but got {value!r}.")
    stored = stored_grade(op.store, reviewer, query_id, doc_id) if stored is None else stored
    previous = _plain(stored[0] if stored else None)
    stamp = now()
    created = pd.Timestamp(previous["created_at"]).to_pydatetime() if previous else stamp
    row = Judgment(query_id=query_id, doc_id=doc_id, reviewer=reviewer, grade=int(value), hard_negative=bool(hard_negative),
                   note=note or "", created_at=created, updated_at=stamp, origin=origin or "")
    detail = {"grade": int(value), "hard_negative": bool(hard_negative), "note": note or "", "origin": origin or "", "previous": previous}
    event = Event(event_id=uuid.uuid4().hex, at=stamp, actor=reviewer, action="grade", target=target("judgment", query_id, doc_id), detail=json.dumps(detail))
    op.add("events", [event])  # the event first: a grade is never stored without its undo record
    op.upsert("judgments", [row], mark="updated_at", before=stored)
    return previous


def set_hard_negative(store: Store, reviewer: str, query_id: str, doc_id: str, flag: bool, op: Operation | None = None) -> bool:
    """Flip the flag on this reviewer's existing grade; False when they have not graded the doc yet."""
    stored = stored_grade(store, _check_reviewer(reviewer), query_id, doc_id)
    if not stored:
        return False
    current = _plain(stored[0])
    with operation(store) if op is None else nullcontext(op) as op:
        write_grade(op, reviewer, query_id, doc_id, current["grade"], hard_negative=flag, note=current["note"], stored=stored,
                    origin=current["origin"])
    return True


def undo_last(store: Store, reviewer: str) -> tuple[str, str] | None:
    """Undo this reviewer's latest grade not yet undone; returns its (query_id, doc_id), or None."""
    reviewer = _check_reviewer(reviewer)
    events = store.read(
        "events",
        where={"actor": reviewer, "action": ["grade", "undo"], "at": After(now() - UNDO_WINDOW)},
        columns=["event_id", "at", "action", "target", "detail"],
    )
    if events.empty:
        return None
    details = [json.loads(d) for d in events.loc[events["action"] == "undo", "detail"]]
    undone = {d.get(UNDO_KEY, d.get("undid")) for d in details}  # "undid": workspaces from before the key was unified
    grades = events[(events["action"] == "grade") & ~events["event_id"].isin(undone)].sort_values("at")
    if grades.empty:
        return None
    last = grades.iloc[-1]
    _, query_id, doc_id = parse_target(last["target"])
    previous = json.loads(last["detail"]).get("previous")
    key = {"query_id": query_id, "doc_id": doc_id, "reviewer": reviewer}
    undo_event = Event(event_id=uuid.uuid4().hex, at=now(), actor=reviewer, action="undo", target=last["target"],
                       detail=json.dumps({UNDO_KEY: last["event_id"]}))
    with operation(store) as op:
        op.add("events", [undo_event])
        if previous is None:
            op.delete("judgments", key)
        else:
            restored = Judgment(query_id=query_id, doc_id=doc_id, reviewer=reviewer, grade=previous["grade"],
                                hard_negative=previous["hard_negative"], note=previous["note"], origin=previous.get("origin", ""),
                                created_at=pd.Timestamp(previous["created_at"]).to_pydatetime(),
                                updated_at=pd.Timestamp(previous["updated_at"]).to_pydatetime())
            op.upsert("judgments", [restored])
    return query_id, doc_id


# -- what to grade next --------------------------------------------------------------------
@lru_cache(maxsize=1 << 18)
def _overlap_point(query_id: str) -> float:
    """The query's fixed point in [0, 1] (cached: every query switch tests every finished query)."""
    return int(hashlib.sha1(query_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def in_overlap_sample(query_id: str, share: float) -> bool:
    """A fixed pseudo-random share of queries (by hash), the same for every reviewer and process."""
    return _overlap_point(query_id) < share


def _progress(store: Store, query_ids: list[str]) -> pd.DataFrame:
    """Judgment counts per (query_id, reviewer) of these queries: counted first, then filtered (the
    filter then sees one row per pair, not one per judgment: most of the cost at 100,000 judgments)."""
    frame = store.read("judgments", columns=["query_id", "reviewer"])
    counts = frame.groupby(["query_id", "reviewer"]).size().rename("n").reset_index()
    return counts[counts["query_id"].isin(set(query_ids))].reset_index(drop=True)


def queue_order(
    store: Store,
    reviewer: str,
    strategy: Strategy | str = Strategy.ungraded,
    *,
    k: int = 10,
    overlap_share: float = 0.2,
    uncertainty: dict[str, float] | None = None,
    thumbs_down: dict[str, float] | None = None,
    segment: Segment | str | None = None,
    mode: SearchMode | str = SearchMode.hybrid,
) -> list[QueueItem]:
    """Every query this reviewer could grade now, best first (claims are not consulted here).

    A query is done for a reviewer once they graded all of its candidates: min(k, documents) of
    them, or fewer when `mode` finds fewer (full-text search matches only shared words).
    Order: the reviewer's own unfinished queries, then overlap items due (finished by exactly
    one other person and in the overlap sample; every such item under Strategy.overlap), then
    fresh queries nobody finished: fewest judgments first, most uncertain first, or highest
    share of thumbs-down in the production logs first (logs.thumbs_down_share). With a `segment`,
    only that segment's queries are offered (Strategy.segment orders them like Strategy.ungraded).
    The audit strategies offer only their scope's queries nobody finished, in the audit order
    (core.labeling.audit), claimed on the same queue so no query is graded twice by accident.
    """
    strategy = Strategy(strategy)
    queries = gradeable_queries(store)
    if isinstance(segment, str):
        segment = Segment.parse(segment)
    if segment is not None:
        queries = queries[segment.mask(queries)]
    elif strategy is Strategy.segment:
        raise InputError("the segment queue expects a segment such as source:log, but got none; pick one under 'Segment'.")
    ids = queries["query_id"].tolist()  # tolist: iterating an Arrow-backed column costs 20x more
    if not ids:
        return []
    need = _documents_to_finish(store, k)
    progress = _progress(store, ids)
    short = _fewer_candidates(store, progress.loc[progress["n"] < need, "query_id"].unique().tolist(), need, mode)
    progress["need"] = progress["query_id"].map(short).fillna(need)
    done = progress[progress["n"] >= progress["need"]]
    finished_by: dict[str, set[str]] = {}
    for qid, who in zip(done["query_id"].tolist(), done["reviewer"].tolist(), strict=False):
        if is_human(who):
            finished_by.setdefault(qid, set()).add(who)
    mine = progress[progress["reviewer"] == reviewer].set_index("query_id")["n"].to_dict()
    total = progress.groupby("query_id")["n"].sum().to_dict()
    share = 1.0 if strategy is Strategy.overlap else overlap_share
    if strategy in AUDIT_SCOPES:
        scope = set(audit.scope_queries(store, AUDIT_SCOPES[strategy]))
        own = [q for q in ids if q in scope and q in mine and not finished_by.get(q, set()) & {reviewer}]
        fresh = [q for q in audit.order(q for q in ids if q in scope) if q not in mine and not finished_by.get(q)]
        return [QueueItem(QUEUE, q) for q in own + fresh]

    started = set(progress.loc[(progress["reviewer"] == reviewer) & (progress["n"] < progress["need"]), "query_id"])
    started = [q for q in ids if q in started]
    overlap = [q for q in ids if q not in mine and len(finished_by.get(q, ())) == 1 and in_overlap_sample(q, share)]
    fresh = [q for q in ids if q not in mine and not finished_by.get(q)]
    position = {q: i for i, q in enumerate(ids)}
    if strategy is Strategy.uncertain and uncertainty:
        fresh.sort(key=lambda q: (-uncertainty.get(q, -1.0), position[q]))
    elif strategy is Strategy.thumbs_down and thumbs_down:
        fresh.sort(key=lambda q: (-thumbs_down.get(q, -1.0), total.get(q, 0), position[q]))
    else:
        fresh.sort(key=lambda q: (total.get(q, 0), position[q]))
    return [QueueItem(QUEUE, q) for q in started] + [QueueItem(OVERLAP_QUEUE, q) for q in overlap] + [QueueItem(QUEUE, q) for q in fresh]


def next_query(store: Store, reviewer: str, strategy: Strategy | str = Strategy.ungraded, *, skip: Iterable[str] = (), **options: Any) -> QueueItem | None:
    """The first queue item nobody else holds, now claimed by `reviewer`; None when all are done or taken."""
    reviewer = _check_reviewer(reviewer)
    skipped = set(skip)
    held = {QUEUE: claims.held_by_others(store, QUEUE, reviewer), OVERLAP_QUEUE: claims.held_by_others(store, OVERLAP_QUEUE, reviewer)}
    for item in queue_order(store, reviewer, strategy, **options):
        if item.query_id in skipped or item.query_id in held[item.queue]:
            continue
        if not claims.try_claim(store, item.queue, item.query_id, reviewer):
            continue
        if item.queue == OVERLAP_QUEUE or not _finished_by_another(store, item.query_id, reviewer, options.get("k", 10),
                                                                   options.get("mode", SearchMode.hybrid)):
            return item
        release(store, reviewer, item)  # finished and released by someone else since the queue was read
    return None


def _documents_to_finish(store: Store, k: int) -> int:
    """A query is done for a reviewer once they graded this many of its documents."""
    return max(1, min(int(k), store.count("documents")))


def _fewer_candidates(store: Store, query_ids: list[str], need: int, mode: SearchMode | str) -> dict[str, int]:
    """The queries among `query_ids` whose candidate list in `mode` is shorter than `need`, with
    its length: grading all of them finishes the query. Only full-text search can come up short
    (vector and hybrid search rank every document), so other modes cost nothing here."""
    if SearchMode(mode) is not SearchMode.fts or not query_ids:
        return {}
    texts = store.read("queries", where={"query_id": query_ids}, columns=["query_id", "text"])
    found = {q: len(search(store, None, text, need, SearchMode.fts)) for q, text in zip(texts["query_id"], texts["text"])}
    return {q: max(1, n) for q, n in found.items() if n < need}


def _finished_by_another(store: Store, query_id: str, reviewer: str, k: int, mode: SearchMode | str = SearchMode.hybrid) -> bool:
    """True when another person finished this query and `reviewer` has not started it: the queue
    was read before they released it, and handing it out would grade it twice by accident."""
    who = store.read("judgments", where={"query_id": query_id}, columns=["reviewer"])["reviewer"]
    if (who == reviewer).any() or who.empty:
        return False
    need = _documents_to_finish(store, k)
    need = _fewer_candidates(store, [query_id], need, mode).get(query_id, need)
    return any(n >= need and is_human(name) for name, n in who.value_counts().items())


def prefetch_next(store: Store, embedder: Embedder | None, reviewer: str, strategy: Strategy | str = Strategy.ungraded, *, k: int = 10,
                  mode: SearchMode | str = SearchMode.hybrid, skip: Iterable[str] = (), **options: Any) -> tuple[QueueItem | None, pd.DataFrame | None]:
    """The next query claimed and its candidates fetched, while the reviewer still reads the current
    one (skip it), so finishing a query only reads a ready result. The caller releases the claim when
    the reviewer never reaches it; a failed fetch releases it here."""
    item = next_query(store, reviewer, strategy, k=k, mode=mode, skip=skip, **options)
    if item is None:
        return None, None
    try:
        return item, candidates(store, embedder, item.query_id, k, mode)
    except BaseException:
        release(store, reviewer, item)
        raise


def segment_options(store: Store) -> list[str]:
    """Every one-column segment of the gradeable queries, and each one restricted to the eval split (guidance links use those)."""
    queries = gradeable_queries(store)
    singles = [Segment(((column, value),)) for column in SEGMENT_COLUMNS
               for value in sorted(set((queries["text"].map(query_style) if column == "style" else queries[column].fillna("")).astype(str)))]
    evals = [Segment((("split", "eval"),) + s.conditions) for s in singles if s.conditions[0][0] != "split"]
    return [str(s) for s in singles + evals]


def release(store: Store, reviewer: str, item: QueueItem) -> None:
    claims.release(store, item.queue, item.query_id, reviewer)


def uncertainty(store: Store, embedder: Embedder, query_ids: list[str] | None = None, k: int = 10, cross_encoder: Any = None) -> dict[str, float]:
    """Per query, how unsure the retriever is about its top candidates, in [0, 3].

    closeness = 1 − gap/GAP_SCALE (clipped), where gap is the cosine gap between the top two
    documents; plus, once a cross-encoder exists, disagreement = (1 − Kendall's tau)/2 between
    its order and the bi-encoder's over the top k; plus the share of the query's logged
    interactions that got a thumbs-down (production users disagreed with the ranking).
    """
    from scipy.stats import kendalltau

    queries = gradeable_queries(store)
    if query_ids is not None:
        queries = queries[queries["query_id"].isin(query_ids)]
    if queries.empty:
        return {}
    doc_ids, matrix = corpus_matrix(store, embedder)
    rankings = rank_many(embedder.encode_queries(list(queries["text"])), doc_ids, matrix, k)
    texts = {}
    if cross_encoder is not None:
        needed = {d for ranking in rankings for d, _ in ranking}
        docs = store.read("documents", where={"doc_id": needed}, columns=["doc_id", "title", "text"])
        texts = {d: f"{t}\n{x}" if t else x for d, t, x in zip(docs["doc_id"], docs["title"], docs["text"], strict=False)}
    out: dict[str, float] = {}
    thumbs_down = logs.thumbs_down_share(store)
    for qid, text, ranking in zip(queries["query_id"], queries["text"], rankings, strict=False):
        scores = [s for _, s in ranking]
        gap = scores[0] - scores[1] if len(scores) > 1 else 1.0
        value = 1.0 - min(max(gap, 0.0) / GAP_SCALE, 1.0)
        if cross_encoder is not None and len(ranking) > 1:
            ce = cross_encoder.predict([(text, texts.get(d, "")) for d, _ in ranking], show_progress_bar=False)
            tau = kendalltau(scores, np.asarray(ce, dtype=float)).statistic
            value += (1.0 - (0.0 if np.isnan(tau) else tau)) / 2.0
        out[qid] = float(value + thumbs_down.get(qid, 0.0))
    return out


def my_progress(store: Store, reviewer: str) -> dict[str, int]:
    """Grades stored by `reviewer` today and this week (UTC, weeks start on Monday), and queries touched today."""
    stamp = now()
    day = stamp.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    events = store.read("events", where={"action": "grade", "actor": reviewer, "at": AtLeast(week)},
                        columns=["at", "target"])
    today = events[events["at"] >= pd.Timestamp(day)] if not events.empty else events
    queries = {parse_target(t)[1] for t in today["target"]} if not today.empty else set()
    return {"today": len(today), "week": len(events), "queries_today": len(queries)}
