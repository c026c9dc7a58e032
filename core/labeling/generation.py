"""Synthetic queries for documents: an LLM through instructor, or an offline generator.

Each document's queries are written in one add (one LanceDB commit), so a provider error or
a stop leaves only whole documents behind. Queries start pending, origin synthetic, split
'none', with their generator ('provider/model@prompt-v1' or 'offline@v1') and source document.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import pandas as pd
from pydantic import BaseModel, Field, field_validator

from core.errors import InputError
from core.labeling import fewshot
from core.labeling.llm import LLMClient
from core.labeling.text import content_words
from core.progress import Progress
from core.storage.auth import Action, User, actor_name
from core.storage.filters import Not
from core.storage.schemas import Query, QueryOrigin, QueryStatus, Split, now, target
from core.storage.store import Store

PROMPT_VERSION = "prompt-v1"
OFFLINE_GENERATOR = "offline@v1"
GENERATING = "writing queries"  # the progress phase, one count per document
MAX_QUERY_CHARS = 200
DOC_CHARS = 2000  # the prompt carries the document's start; long documents are cut here


class Style(StrEnum):
    question = "question"
    keyword = "keyword"
    hard = "hard"


STYLE_HINTS = {
    Style.question: "natural questions a member would type into a help-centre search box",
    Style.keyword: "short keyword searches (2-5 words, no question mark), as people type into a search engine",
    Style.hard: "ambiguous or hard queries: vague wording, synonyms instead of the document's words, or missing details "
    "(year, plan) so that similar documents compete; still answerable by this document",
}


class Selection(StrEnum):
    unqueried = "never-queried first"
    random = "random"
    search = "by search"


class GeneratedQueries(BaseModel):
    """The LLM's answer; instructor re-asks when it does not validate."""

    queries: list[str] = Field(min_length=1, description="search queries a real user would type for this document")

    @field_validator("queries")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(q.strip() for q in value if q and q.strip()))
        if not cleaned:
            raise ValueError("expected at least one non-empty query")
        too_long = [q for q in cleaned if len(q) > MAX_QUERY_CHARS]
        if too_long:
            raise ValueError(f"queries must be at most {MAX_QUERY_CHARS} characters, like a real search; shorten: {too_long[0][:60]}…")
        return cleaned


@dataclass
class Examples:
    """Few-shot material from earlier reviews: approved (query, document title) pairs, and rejected queries to avoid."""

    approved: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


class Generator(Protocol):
    name: str

    def queries(self, doc: dict, style: Style, n: int, examples: Examples) -> list[str]: ...


# -- document selection ---------------------------------------------------------------------
def select_documents(
    store: Store, n_docs: int, how: Selection | str = Selection.unqueried, *, search_text: str = "", embedder=None, seed: int | None = None
) -> pd.DataFrame:
    """Which documents to write queries for: columns doc_id, title, text."""
    how = Selection(how)
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    if docs.empty:
        raise InputError("generation expects documents in the workspace, but there are none; import a corpus or load the demo first")
    rng = random.Random(seed)
    if how is Selection.search:
        if not search_text.strip():
            raise InputError("selection 'by search' expects search text, but got none; type a few words to find documents")
        from core.search.retrieval import search

        hits = search(store, embedder, search_text, k=n_docs, mode="hybrid" if embedder is not None else "full-text")
        return hits[["doc_id", "title", "text"]].reset_index(drop=True)
    order = list(docs.index)
    rng.shuffle(order)
    if how is Selection.unqueried:
        used = queried_doc_ids(store)
        order.sort(key=lambda i: docs.at[i, "doc_id"] in used)  # stable: random within each group
    return docs.loc[order[:n_docs]].reset_index(drop=True)


def queried_doc_ids(store: Store) -> set[str]:
    """Documents that already have a query: a synthetic one from them, or a judgment."""
    sources = store.read("queries", where={"source_doc_id": Not(None)}, columns=["source_doc_id"])
    judged = store.read("judgments", columns=["doc_id"])
    return set(sources["source_doc_id"]) | set(judged["doc_id"])


# -- few-shot examples ----------------------------------------------------------------------
def few_shot_examples(store: Store, k: int = 4, seed: int | None = None) -> Examples:
    """Approved queries (most recently reviewed first) with their document's title, and a few rejected ones."""
    queries = store.read("queries", where={"status": [QueryStatus.approved, QueryStatus.rejected]},
                         columns=["query_id", "text", "status", "source_doc_id", "reviewed_at", "created_at"])
    if queries.empty:
        return Examples()
    queries = queries.assign(when=queries["reviewed_at"].fillna(queries["created_at"])).sort_values("when", ascending=False)
    approved = queries[queries["status"] == QueryStatus.approved.value]
    with_doc = approved[approved["source_doc_id"].notna()]
    picked = pd.concat([with_doc, approved[approved["source_doc_id"].isna()]]).head(k)
    titles = _titles(store, set(picked["source_doc_id"].dropna()))
    rejected = queries[queries["status"] == QueryStatus.rejected.value]["text"].head(k).tolist()
    return Examples([(t, titles.get(d, "") if isinstance(d, str) else "") for t, d in zip(picked["text"], picked["source_doc_id"], strict=True)], rejected)


def _titles(store: Store, doc_ids: set[str]) -> dict[str, str]:
    if not doc_ids:
        return {}
    rows = store.read("documents", where={"doc_id": doc_ids}, columns=["doc_id", "title"])
    return dict(zip(rows["doc_id"], rows["title"], strict=True))


# -- the LLM generator ----------------------------------------------------------------------
def build_messages(doc: dict, style: Style, n: int, examples: Examples) -> list[dict]:
    """The prompt: the document, the wanted style and count, approved examples to imitate, rejected ones to avoid."""
    system = (
        "You write search queries that real users would type to find a document in a search system. "
        "Write queries a person who has NOT read the document would type: do not copy sentences from it. "
        f"Style: {STYLE_HINTS[style]}."
    )
    parts = []
    if examples.approved:
        lines = "\n".join(f"- {q}" + (f"  (for: {t})" if t else "") for q, t in examples.approved)
        parts.append(f"Queries our reviewers approved for other documents (match their tone and length):\n{lines}")
    if examples.rejected:
        parts.append("Queries our reviewers rejected (do not write queries like these):\n" + "\n".join(f"- {q}" for q in examples.rejected))
    text = str(doc.get("text", ""))[:DOC_CHARS]
    parts.append(f"Document title: {doc.get('title', '')}\nDocument:\n{text}")
    parts.append(f"Write exactly {n} different queries for this document.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


class LLMGenerator:
    """Queries from an LLM; output validated by instructor (re-asked when invalid)."""

    def __init__(self, client: LLMClient):
        self.client = client
        self.name = f"{client.name}@{PROMPT_VERSION}"

    def queries(self, doc: dict, style: Style, n: int, examples: Examples) -> list[str]:
        answer = self.client.create(GeneratedQueries, build_messages(doc, style, n, examples))
        return answer.queries[:n]


# -- the offline generator ------------------------------------------------------------------
class OfflineGenerator:
    """Plausible queries made from the document's own title and words: no LLM, no network, deterministic per seed."""

    name = OFFLINE_GENERATOR

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def queries(self, doc: dict, style: Style, n: int, examples: Examples) -> list[str]:
        rng = random.Random(f"{self.seed}:{doc.get('doc_id')}:{style.value}")
        title = str(doc.get("title", "")).strip()
        title_words = [w for w in content_words(title) if w not in ("faq", "internal")]
        body_words = [w for w in content_words(str(doc.get("text", ""))) if w not in title_words and not any(c.isdigit() for c in w)]
        made: list[str] = []
        for attempt in range(4 * n):
            query = self._one(style, title, title_words, body_words, rng, attempt)
            if query and query.lower() not in (m.lower() for m in made):
                made.append(query)
            if len(made) == n:
                break
        return made or [title.lower() or "document"]

    @staticmethod
    def _one(style: Style, title: str, title_words: list[str], body_words: list[str], rng: random.Random, attempt: int) -> str:
        words = title_words or body_words[:4]
        if style is Style.keyword:
            extra = rng.sample(body_words, min(len(body_words), attempt % 3)) if attempt else []
            return " ".join((words[:4] + extra)[:5])
        if style is Style.hard:
            vague = [w for w in words if not w.isdigit()][:2]  # drop years and numbers: several documents now fit
            pool = body_words[: 8 + attempt]
            extra = rng.sample(pool, min(len(pool), 2))
            return " ".join(vague[:1] + extra) if attempt % 2 else " ".join(vague + extra[:1])
        return _question(title, words, body_words, rng, attempt)


def _question(title: str, words: list[str], body_words: list[str], rng: random.Random, attempt: int) -> str:
    """A question built around the title's own phrase ("X: Y" reads as "Y for X")."""
    phrase = re.sub(r"\s*\([^)]*\)", "", title).strip().rstrip("?.").lower()
    head, _, tail = phrase.partition(": ")
    how_to = re.match(r"how (?:to|do i|can i) (.+)", phrase)
    if how_to and attempt == 0:
        return f"how do I {how_to.group(1)}?"
    asks = bool(re.match(r"(what|how|when|where|who|why|can|do|does|is)\b", phrase)) and not tail
    if asks and attempt == 0:
        return phrase + "?"
    if asks or how_to:
        head = " ".join(words[:4])
    wh = r"(what|how|when|where|who|why|can|do|does|is)\b"
    if tail and re.match(wh, tail):
        if attempt == 0:
            return f"{tail} with the {head}?"
        tail = ""
    topic = f"{tail} for {head}" if tail else head
    if phrase.split(" ")[0].endswith("ing"):
        templates = ["what are the rules for {t}?", "what do I need for {t}?", "how long does {t} take?", "is there a deadline for {t}?"]
    else:
        templates = ["what is the {t}?", "how does {t} work?", "where can I find the {t}?", "{t} details?"]
    if attempt < len(templates):
        return templates[attempt].format(t=topic)
    return f"{' '.join(words[:3])} {rng.choice(body_words) if body_words else ''}?".strip()


# -- the run --------------------------------------------------------------------------------
@dataclass
class GenerationResult:
    generator: str
    written: list[str] = field(default_factory=list)  # query ids
    docs_done: int = 0
    skipped_duplicates: int = 0
    stopped: bool = False


def generate(
    store: Store,
    generator: Generator,
    docs: pd.DataFrame,
    *,
    style: Style | str = Style.question,
    per_doc: int = 1,
    limit: int | None = None,
    use_examples: bool = True,
    fewshot_set: str | None = None,
    actor: str | User = "cli",
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> GenerationResult:
    """Write up to `per_doc` queries for each document (at most `limit` in all); one commit per document."""
    actor = actor_name(actor, Action.generate)
    style = Style(style)
    if per_doc < 1:
        raise InputError(f"generation expects at least 1 query per document, but got {per_doc}")
    examples = few_shot_examples(store) if use_examples else Examples()
    if use_examples and fewshot_set:
        examples = Examples(fewshot.examples(store, fewshot_set), examples.rejected)
    result = GenerationResult(generator.name)
    total = len(docs)
    limit = limit if limit is not None else total * per_doc
    try:  # each document's queries are one write, kept if a later document fails (an LLM call costs money)
        for i, doc in enumerate(docs.to_dict("records")):
            if len(result.written) >= limit or (should_stop and should_stop()):
                result.stopped = len(result.written) < limit
                break
            if progress:
                progress(i, total, GENERATING, str(doc.get("title") or doc["doc_id"]))
            want = min(per_doc, limit - len(result.written))
            texts = generator.queries(doc, style, want, examples)  # raises ProviderError: nothing of this doc is written
            known = _existing_texts(store, doc["doc_id"])
            fresh = [t for t in texts if t.lower() not in known][:want]
            result.skipped_duplicates += len(texts[:want]) - len(fresh)
            stamp = now()
            rows = [
                Query(query_id=f"syn-{uuid.uuid4().hex[:12]}", text=t, origin=QueryOrigin.synthetic.value, source_doc_id=doc["doc_id"],
                      generator=generator.name, status=QueryStatus.pending.value, split=Split.none.value, source=f"generate:{style.value}",
                      created_at=stamp)
                for t in fresh
            ]
            store.add("queries", rows)
            result.written.extend(r.query_id for r in rows)
            result.docs_done += 1
    finally:  # so the audit trail names every query written, also when generation stopped or failed
        if result.written:
            store.log(actor, "generate", target("generator", generator.name), count=len(result.written), docs=result.docs_done,
                      style=style.value, stopped=result.stopped)
    if progress:
        progress(result.docs_done, total, GENERATING)
    return result


def _existing_texts(store: Store, doc_id: str) -> set[str]:
    rows = store.read("queries", where={"source_doc_id": doc_id}, columns=["text"])
    return {t.lower() for t in rows["text"]}


def make_generator(settings, provider: str | None = None, seed: int | None = None) -> Generator:
    """The LLM generator when a provider is set (argument or FLYWHEEL_LLM), else the offline one."""
    spec = settings.llm if provider is None else provider
    if not spec or spec == "offline":
        return OfflineGenerator(seed)
    from core.labeling.llm import make_client

    return LLMGenerator(make_client(settings, spec))
