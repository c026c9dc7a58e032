"""Pre-grades for reviewers: an LLM judge through instructor, or offline the trained
cross-encoder (else the retriever's score). Stored in `suggestions`, never as judgments,
and shown only when the reviewer asks for them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from core.labeling.labels import FLYWHEEL_TOP, GRADE_MEANINGS
from core.labeling.llm import LLMClient
from core.storage.filters import Not
from core.storage.schemas import IMPORT_REVIEWER, RunKind, RunStatus, Split, Suggestion, now
from core.storage.store import Store

PROMPT_VERSION = "judge-v1"
MAX_DOC_CHARS = 4000  # long documents are cut before they reach the judge


class JudgeGrade(BaseModel):
    """The LLM judge's answer for one (query, document)."""

    grade: int = Field(ge=0, le=FLYWHEEL_TOP, description=f"relevance 0-{FLYWHEEL_TOP}: " + "; ".join(f"{g} = {m}" for g, m in GRADE_MEANINGS.items()))
    reason: str = Field(max_length=400, description="one short sentence saying why")


def build_messages(query: str, title: str, text: str) -> list[dict]:
    scale = "\n".join(f"{g}: {m}" for g, m in GRADE_MEANINGS.items())
    return [
        {"role": "system", "content": "You grade how well a document answers a search query, for a retrieval evaluation. "
                                      f"Use this scale:\n{scale}\nBe strict: a document that only mentions the topic is 1."},
        {"role": "user", "content": f"Query: {query}\n\nDocument title: {title}\nDocument:\n{text[:MAX_DOC_CHARS]}"},
    ]


def _pairs(store: Store, query_id: str, doc_ids: list[str]) -> tuple[str, pd.DataFrame]:
    query = store.read("queries", where={"query_id": query_id}, columns=["text"])
    docs = store.read("documents", where={"doc_id": doc_ids}, columns=["doc_id", "title", "text"])
    order = {d: i for i, d in enumerate(doc_ids)}
    docs = docs.assign(_order=docs["doc_id"].map(order)).sort_values("_order")
    return (str(query["text"].iloc[0]) if not query.empty else ""), docs


def llm_suggest(store: Store, client: LLMClient, query_id: str, doc_ids: list[str]) -> pd.DataFrame:
    """Ask the LLM judge for each document, store the suggestions, return them (doc_id, grade, reason)."""
    query, docs = _pairs(store, query_id, doc_ids)
    agent = f"llm:{client.name}@{PROMPT_VERSION}"
    rows = []
    for doc_id, title, text in zip(docs["doc_id"], docs["title"], docs["text"], strict=False):
        answer = client.create(JudgeGrade, build_messages(query, title, text))
        rows.append(Suggestion(query_id=query_id, doc_id=doc_id, agent=agent, grade=float(answer.grade), reason=answer.reason, created_at=now()))
        store.upsert("suggestions", rows[-1:])  # each answer is kept even if a later call fails
    return pd.DataFrame([{"doc_id": r.doc_id, "grade": r.grade, "reason": r.reason, "agent": r.agent} for r in rows])


def latest_cross_encoder(store: Store) -> dict | None:
    """The newest succeeded cross-encoder run whose model folder still exists, or None."""
    runs = store.read("runs", where={"kind": RunKind.cross_encoder, "status": RunStatus.succeeded},
                      columns=["run_id", "model_path", "finished_at", "created_at"])
    if runs.empty:
        return None
    runs = runs.assign(_at=runs["finished_at"].fillna(runs["created_at"])).sort_values("_at", ascending=False)
    for row in runs.to_dict("records"):
        if row["model_path"] and Path(row["model_path"]).exists():
            return row
    return None


def load_cross_encoder(path: str) -> Any:
    from sentence_transformers import CrossEncoder

    from core.search.precision import for_inference

    return for_inference(CrossEncoder(path, device="cpu"))  # suggestions scored in the inference precision (bf16 where native)


def _probability(score: float) -> float:
    return score if 0.0 <= score <= 1.0 else 1.0 / (1.0 + math.exp(-score))


def cross_encoder_grade(score: float) -> int:
    """A re-ranker's score as a grade: its relevance probability × FLYWHEEL_TOP, rounded."""
    return int(round(FLYWHEEL_TOP * _probability(float(score))))


def offline_suggest(store: Store, query_id: str, candidates: pd.DataFrame | list[dict], cross_encoder: Any = None, run_id: str = "") -> pd.DataFrame:
    """Suggest from the cross-encoder (its probability × FLYWHEEL_TOP as a grade) or, without one, the retriever score."""
    candidates = pd.DataFrame(candidates, columns=None if len(candidates) else ["doc_id", "score"])
    if candidates.empty:
        return pd.DataFrame(columns=["doc_id", "grade", "score", "agent"])
    stamp = now()
    if cross_encoder is not None:
        query, docs = _pairs(store, query_id, list(candidates["doc_id"]))
        texts = [f"{t}\n{x}" if t else x for t, x in zip(docs["title"], docs["text"], strict=False)]
        scores = [float(s) for s in cross_encoder.predict([(query, t) for t in texts], show_progress_bar=False)]
        agent = f"cross-encoder:{run_id}"
        rows = [Suggestion(query_id=query_id, doc_id=d, agent=agent, grade=float(cross_encoder_grade(s)), score=s, created_at=stamp)
                for d, s in zip(docs["doc_id"], scores, strict=False)]
    else:
        agent = "retriever"
        rows = [Suggestion(query_id=query_id, doc_id=d, agent=agent, score=float(s), created_at=stamp)
                for d, s in zip(candidates["doc_id"], candidates["score"], strict=False)]
    store.upsert("suggestions", rows)
    return pd.DataFrame([{"doc_id": r.doc_id, "grade": r.grade, "score": r.score, "agent": r.agent} for r in rows])


def suggestions_for(store: Store, query_id: str) -> pd.DataFrame:
    """All stored suggestions for a query: doc_id, agent, grade, score, reason."""
    return store.read("suggestions", where={"query_id": query_id}, columns=["doc_id", "agent", "grade", "score", "reason"])


def confidence_words(probability: float) -> str:
    """How sure a model is, in words: distance of its relevance probability from a coin flip."""
    distance = abs(probability - 0.5)
    return "very sure" if distance >= 0.4 else "fairly sure" if distance >= 0.25 else "unsure"


def describe(suggestion: dict) -> tuple[int | None, str]:
    """(grade to pre-select or None, one plain sentence) for a stored suggestion. The retriever's
    score is similarity, not relevance, so it never pre-selects a grade."""
    agent, grade, score = str(suggestion.get("agent", "")), suggestion.get("grade"), suggestion.get("score")
    has_grade = grade is not None and grade == grade
    has_score = score is not None and score == score
    if has_grade and agent.startswith("cross-encoder"):
        p = _probability(float(score)) if has_score else float(grade) / FLYWHEEL_TOP
        g = int(grade)
        return g, f"The trained re-ranker suggests **{g} · {GRADE_MEANINGS[g].split(':')[0]}**, {confidence_words(p)} ({p:.0%} likely relevant)."
    if has_grade:
        g = int(grade)
        reason = f": “{suggestion.get('reason')}”" if suggestion.get("reason") else "."
        return g, f"The LLM judge suggests **{g} · {GRADE_MEANINGS[g].split(':')[0]}**{reason}"
    if has_score:
        return None, f"The retriever finds it {'very ' if score >= 0.6 else ''}{'similar' if score >= 0.3 else 'not very similar'} " \
                     f"(cosine {float(score):.2f}): closeness of words and topic, not a grade."
    return None, ""


# -- track records: how often each suggesting agent agreed with people on this workspace ------
MODEL_AGENTS = ("cross-encoder:",)  # agents that trained on this workspace's train split: scored on eval queries only


def people_grades(store: Store, query_ids: list[str] | None = None) -> pd.DataFrame:
    """People's own grades (no imported qrels, no grade accepted from a suggestion): query_id, doc_id, reviewer, grade."""
    where = {"query_id": query_ids} if query_ids is not None else None
    frame = store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade", "origin"])
    own = ~frame["reviewer"].str.startswith(IMPORT_REVIEWER) & (frame["origin"].fillna("") == "")
    return frame[own].drop(columns="origin").reset_index(drop=True)


def track_records(store: Store) -> dict[str, dict[str, float]]:
    """Per agent with graded suggestions: pairs compared with people's own grades, exact and
    within-one shares. A model agent counts only on eval-split queries (it trained on the rest)."""
    found = store.read("suggestions", where={"grade": Not(None)}, columns=["query_id", "doc_id", "agent", "grade"])
    if found.empty:
        return {}
    people = people_grades(store, sorted(set(found["query_id"])))
    if people.empty:
        return {}
    evals = set(store.read("queries", where={"split": Split.eval}, columns=["query_id"])["query_id"])
    both = found.merge(people, on=["query_id", "doc_id"], suffixes=("_judge", ""))
    both = both[~both["agent"].str.startswith(MODEL_AGENTS) | both["query_id"].isin(evals)]
    out = {}
    for agent, rows in both.groupby("agent"):
        diff = (rows["grade_judge"] - rows["grade"]).abs()
        out[str(agent)] = {"pairs": int(len(rows)), "exact": float((diff == 0).mean()), "within_one": float((diff <= 1).mean()),
                           "held_out": bool(str(agent).startswith(MODEL_AGENTS))}
    return out


def record_words(record: dict[str, float] | None) -> str:
    """The track record beside a suggestion, in words; '' when there is none yet."""
    if not record:
        return ""
    where = " (eval-split queries, which it did not train on)" if record.get("held_out") else ""
    return (f"Track record here: agrees with people {record['within_one']:.0%} within one grade, {record['exact']:.0%} exactly, "
            f"on {record['pairs']} graded pairs{where}.")
