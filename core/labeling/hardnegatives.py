"""Hard-negative candidates for reviewers to confirm or reject, and the confirmed list.

A hard negative looks relevant to the retriever but is not. Three sources of candidates:
documents the retriever ranks in the top k that people graded low, documents never graded
for a query that sentence-transformers' `mine_hard_negatives` finds close to one of its
positives, and documents production ranked high under a thumbs-down that no answer cited
(core.labeling.logs). A confirmation is the reviewer's own judgment with the flag set (so undo and
agreement see it); decisions are logged, and a decided pair is not offered again.
"""

from __future__ import annotations

import pandas as pd

from core.labeling import grading, logs
from core.labeling.labels import consensus, positive_mask, source_scales
from core.progress import Progress
from core.search.mining import mine_pairs
from core.search.models import Embedder
from core.search.retrieval import corpus_matrix, rank_many
from core.storage.operations import operation
from core.storage.schemas import parse_target, target
from core.storage.store import Store

CONFIRM, REJECT = "confirm-hard-negative", "reject-hard-negative"
COLUMNS = ["query_id", "query", "doc_id", "title", "text", "source", "score", "grade", "why"]
# Why a pair is a candidate, in words for annotators and with no model number (blind mode shows only these).
WHY = {
    "ranked": "Search puts it among the top results for this query, yet people graded it low.",
    "never graded": "Nobody has graded it for this query, yet it reads much like a document graded relevant.",
    "logs": "Real users saw it ranked high for this query and gave a thumbs-down; no answer used it.",
}


def why(source: str) -> str:
    """The annotator's sentence for a candidate's `source` (its engineer's detail: rank, grade, positive, score)."""
    return next((words for prefix, words in WHY.items() if source.startswith(prefix)), "")


def decided_pairs(store: Store) -> set[tuple[str, str]]:
    """(query_id, doc_id) pairs someone confirmed or rejected, or already flagged."""
    events = store.read("events", where={"action": [CONFIRM, REJECT]}, columns=["target"])
    pairs = {parse_target(t)[1:] for t in events["target"]}
    flagged = store.read("judgments", where={"hard_negative": True}, columns=["query_id", "doc_id"])
    return pairs | set(zip(flagged["query_id"], flagged["doc_id"], strict=False))


def _ranked_low(queries: pd.DataFrame, labels: pd.DataFrame, rankings, low_grade: int) -> list[dict]:
    low = labels[~labels["positive"]]  # on binary qrels grade 1 is a positive, never a low grade
    grades = {(q, d): g for q, d, g in zip(low["query_id"], low["doc_id"], low["grade"], strict=False)}
    out = []
    for qid, text, ranking in zip(queries["query_id"], queries["text"], rankings, strict=False):
        for rank, (doc_id, score) in enumerate(ranking, start=1):
            grade = grades.get((qid, doc_id))
            if grade is not None and grade <= low_grade:
                out.append({"query_id": qid, "query": text, "doc_id": doc_id, "source": f"ranked #{rank}, graded {grade}",
                            "score": score, "grade": grade})
    return out


def _similar_to_positive(store: Store, embedder: Embedder, queries: pd.DataFrame, labels: pd.DataFrame, per_query: int,
                         corpus_vectors: dict) -> list[dict]:
    """The never-judged documents the retriever puts closest to each query with a positive."""
    positives = labels[labels["positive"]]
    if positives.empty:
        return []
    doc_text = store.document_texts()
    text_of = dict(zip(queries["query_id"], queries["text"], strict=False))
    by_query: dict[str, list[str]] = {}
    for q, d in zip(positives["query_id"], positives["doc_id"], strict=False):
        by_query.setdefault(q, []).append(d)
    judged = set(zip(labels["query_id"], labels["doc_id"], strict=False))
    out, seen = [], set()
    for m in mine_pairs(embedder.model, text_of, doc_text, by_query, per_query, corpus_vectors=corpus_vectors):
        if (m.query_id, m.doc_id) in judged or (m.query_id, m.doc_id) in seen:
            continue
        seen.add((m.query_id, m.doc_id))
        out.append({"query_id": m.query_id, "query": text_of[m.query_id], "doc_id": m.doc_id,
                    "source": f"never graded, similar to positive {m.positive_id}", "score": m.score, "grade": None})
    return out


def _from_logs(store: Store, queries: pd.DataFrame, labels: pd.DataFrame) -> list[dict]:
    """Production's likely hard negatives, unless a reviewer already graded the pair relevant."""
    found = logs.hard_negative_candidates(store, list(queries["query_id"]))
    positives = labels[labels["positive"]]  # the caller's positive rule: by default each query's top band, as training reads it
    relevant = set(zip(positives["query_id"], positives["doc_id"]))
    text_of = dict(zip(queries["query_id"], queries["text"]))
    return [{"query_id": q, "query": text_of[q], "doc_id": d, "source": source, "score": float(score), "grade": None}
            for q, d, score, source in zip(found["query_id"], found["doc_id"], found["score"], found["source"]) if (q, d) not in relevant]


def mined_candidates(
    store: Store,
    embedder: Embedder,
    *,
    k: int = 10,
    low_grade: int = 1,
    positive_grade: int = 0,  # 0: the top band of each query's scale
    per_query: int = 3,
    query_ids: list[str] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Undecided hard-negative candidates, most similar first (columns COLUMNS).

    `progress` hears each slow step as a phase (embedding the corpus for a new model, with its
    count of documents; ranking every query; mining near positives)."""
    say = progress or (lambda done, total, phase="", note="": None)
    say(0, 0, "Reading queries and grades")
    queries = grading.gradeable_queries(store)
    if query_ids is not None:
        queries = queries[queries["query_id"].isin(query_ids)]
    if queries.empty:
        return pd.DataFrame(columns=COLUMNS)
    judgments = store.read("judgments", where={"query_id": queries["query_id"]},
                           columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative"])
    labels = consensus(judgments, source_scales(store))
    labels["positive"] = positive_mask(labels, positive_grade)
    say(0, 0, "Embedding the documents (once per model; later runs reuse it)")
    doc_ids, matrix = corpus_matrix(store, embedder, progress)  # counts documents in that phase
    say(0, 0, f"Ranking {len(queries)} queries")
    rankings = rank_many(embedder.encode_queries(list(queries["text"])), doc_ids, matrix, k)
    say(0, 0, "Mining never-graded documents close to each positive (mine_hard_negatives)")
    rows = _ranked_low(queries, labels, rankings, low_grade)
    rows += _similar_to_positive(store, embedder, queries, labels, per_query, dict(zip(doc_ids, matrix, strict=True)))
    rows += _from_logs(store, queries, labels)
    decided = decided_pairs(store)
    rows = [r for r in rows if (r["query_id"], r["doc_id"]) not in decided]
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows).drop_duplicates(["query_id", "doc_id"])
    frame["why"] = frame["source"].map(why)
    docs = store.read("documents", where={"doc_id": set(frame["doc_id"])}, columns=["doc_id", "title", "text"])
    frame = frame.merge(docs, on="doc_id", how="left")
    return frame.sort_values(["score", "query_id"], ascending=[False, True]).reset_index(drop=True)[COLUMNS]


def confirm(store: Store, reviewer: str, query_id: str, doc_id: str, grade: int | None = None, note: str = "") -> None:
    """Record the reviewer's judgment with the hard-negative flag (grade: theirs so far, else 0);
    the judgment and the confirm event land together or not at all."""
    stored = grading.stored_grade(store, reviewer, query_id, doc_id)
    if grade is None:
        grade = int(stored[0]["grade"]) if stored else 0
    with operation(store) as op:
        grading.write_grade(op, reviewer, query_id, doc_id, grade, hard_negative=True,
                            note=note or (stored[0]["note"] or "" if stored else ""), stored=stored)
        op.log(reviewer, CONFIRM, target("judgment", query_id, doc_id), grade=grade)


def reject(store: Store, reviewer: str, query_id: str, doc_id: str) -> None:
    """Not a hard negative: clear the reviewer's own flag if set, and stop offering the pair
    (flag and event together)."""
    with operation(store) as op:
        grading.set_hard_negative(store, reviewer, query_id, doc_id, False, op=op)
        op.log(reviewer, REJECT, target("judgment", query_id, doc_id))


def confirmed(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    """Confirmed hard negatives per query: query_id, query, doc_id, title, reviewers, grade."""
    where = {"hard_negative": True} | ({"query_id": query_ids} if query_ids is not None else {})
    flagged = store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade"])
    columns = ["query_id", "query", "doc_id", "title", "reviewers", "grade"]
    if flagged.empty:
        return pd.DataFrame(columns=columns)
    out = flagged.groupby(["query_id", "doc_id"]).agg(reviewers=("reviewer", lambda r: ", ".join(sorted(r))), grade=("grade", "median")).reset_index()
    queries = store.read("queries", where={"query_id": set(out["query_id"])}, columns=["query_id", "text"]).rename(columns={"text": "query"})
    docs = store.read("documents", where={"doc_id": set(out["doc_id"])}, columns=["doc_id", "title"])
    out = out.merge(queries, on="query_id", how="left").merge(docs, on="doc_id", how="left")
    return out.sort_values(["query_id", "doc_id"]).reset_index(drop=True)[columns]
