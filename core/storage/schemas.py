"""One pydantic LanceModel per stored table, and the str-Enums used in them.

Human answers (queries' review fields, judgments) and model output (suggestions, runs,
metrics) live in separate tables, so one never overwrites the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from lancedb.pydantic import LanceModel


def now() -> datetime:
    """Naive UTC timestamps everywhere (LanceDB stores them without a zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


class QueryOrigin(StrEnum):
    synthetic = "synthetic"
    imported = "imported"
    human = "human"
    log = "log"  # a query people typed into the team's RAG app (core/labeling/logs.py)


class QueryStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class Split(StrEnum):
    train = "train"
    eval = "eval"
    none = "none"


class RunKind(StrEnum):
    bi_encoder = "bi-encoder"
    cross_encoder = "cross-encoder"
    adapter = "adapter"
    rerank_api = "rerank-api"
    curve = "curve"  # a learning-curve job: a runs row for progress and cancel, its points in curve_points


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    interrupted = "interrupted"


class Document(LanceModel):
    doc_id: str
    title: str = ""
    text: str
    metadata: str = "{}"  # JSON object
    source: str = ""  # the import it came from


class Query(LanceModel):
    query_id: str
    text: str
    origin: str = QueryOrigin.imported.value
    source_doc_id: str | None = None
    generator: str = ""  # "provider/model@prompt-version" or "offline@v1"
    status: str = QueryStatus.approved.value
    original_text: str | None = None  # the generated text, kept when a reviewer edits it
    reject_reason: str | None = None
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    split: str = Split.none.value
    source: str = ""
    created_at: datetime


FLYWHEEL_TOP = 5  # reviewers grade 0..5; imported qrels use 0..5 or less (core.labeling.labels turns them into scales)
IMPORT_REVIEWER = "import:"  # imported qrels are judgments by reviewer "import:<source name>"


class Judgment(LanceModel):
    """One reviewer's grade of one (query, document); key (query_id, doc_id, reviewer)."""

    query_id: str
    doc_id: str
    reviewer: str  # a person, or IMPORT_REVIEWER + the source's name for imported qrels
    grade: int  # 0 irrelevant … FLYWHEEL_TOP exactly answers
    hard_negative: bool = False
    note: str = ""
    created_at: datetime
    updated_at: datetime
    # Added later (a text column: older workspaces gain it as '' on open):
    origin: str = ""  # '' the reviewer's own grade; a suggestion's agent when they accepted its grade (judge agreement leaves those out)


class Suggestion(LanceModel):
    """Model output for a (query, doc): shown as a pre-label, never counted as a judgment."""

    query_id: str
    doc_id: str
    agent: str  # "llm:<model>", "cross-encoder:<run>", "retriever:<model>", "miner"
    grade: float | None = None
    score: float | None = None
    reason: str = ""
    created_at: datetime


class Run(LanceModel):
    run_id: str
    kind: str
    base_model: str
    config: str = "{}"  # resolved config, JSON
    status: str = RunStatus.queued.value
    progress: str = "{}"  # JSON: step, total, loss, eta_s, eval, history
    error: str = ""
    model_path: str = ""
    snapshot: str = "{}"  # JSON: counts of the training/eval data
    snapshot_hash: str = ""  # hash of the eval query ids + qrels: runs compare only when equal
    pid: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Added after the first release (appended, so older workspaces gain them on open):
    name: str = ""  # given on the Train page; readers see the id until then
    tags: str = ""  # comma-separated, free text
    host: str = ""  # the machine of `pid`: a run is judged dead by host and process, or by its heartbeat elsewhere
    heartbeat: str = ""  # ISO time the owning process last said it is alive ('' before it started)


class Metric(LanceModel):
    run_id: str
    stage: str  # before | after | <comparison name>
    name: str  # recall | precision | mrr | ndcg | map
    k: int
    value: float


class QueryResult(LanceModel):
    """Per run, stage and query: metric values, first relevant rank, and the top results."""

    run_id: str
    stage: str
    query_id: str
    first_relevant_rank: int  # 1-based; 0 when no relevant document was retrieved
    values: str  # JSON {"recall@10": …}
    ranking: str  # JSON [[doc_id, score], …] top 20


def document_text(title: str, text: str) -> str:
    """A document as models read it: the title on its own line, then the body."""
    return f"{title}\n{text}" if title else text


class CurvePoint(LanceModel):
    """One learning-curve point: a model trained on a seeded subset of the train queries (or, for a curve by
    judgments, of each train query's judgments), scored on the eval set (fraction 0 is the base model).
    Per-query values let any metric be refitted."""

    run_id: str  # the curve job (runs row, kind 'curve')
    fraction: float
    seed: int
    train_queries: int
    train_pairs: int
    values: str  # JSON {"ndcg@10": mean, …}: every metric
    per_query: str  # JSON {query_id: {"ndcg@10": …}}
    counts: str = ""  # JSON {"train_judgments": n}: judged (query, doc) pairs trained on; '' in older workspaces


UNDO_KEY = "undoes"  # an undo event's detail names the event it undoes under this key
TARGET_IDS = {"judgment": 2}  # how many ids a kind of event target names (1 unless listed)


def target(kind: str, *ids: str) -> str:
    """An event's target: target("query", q) is "query:<q>", target("judgment", q, d) "judgment:<q>/<d>"."""
    if len(ids) != TARGET_IDS.get(kind, 1):
        raise ValueError(f"an event target of kind {kind!r} expects {TARGET_IDS.get(kind, 1)} id(s), but got {len(ids)}")
    return f"{kind}:{'/'.join(ids)}"


def parse_target(text: str) -> tuple[str, ...]:
    """The kind and ids of an event's target: ("judgment", q, d) from "judgment:<q>/<d>". Only the
    first "/" separates a judgment's ids (a document id may contain more)."""
    kind, _, rest = text.partition(":")
    return (kind, *rest.split("/", TARGET_IDS.get(kind, 1) - 1))


class Event(LanceModel):
    """Append-only audit log."""

    event_id: str
    at: datetime
    actor: str
    action: str  # approve, edit, reject, skip, undo, grade, launch, cancel, import, …
    target: str  # "query:<id>", "judgment:<qid>/<did>", "run:<id>": built and read with target(), parse_target()
    detail: str = "{}"  # JSON


class Source(LanceModel):
    """An import's grade scale as its data showed it: the top grade and each grade's count.
    core.labeling.labels turns it into a relevance scale (which grades are positives)."""

    source: str  # the import's name; its judgments have reviewer "import:<name>"
    top_grade: int  # the highest grade its qrels use (1 for binary qrels)
    grades: str = "{}"  # JSON {"0": count, "1": count, …}
    created_at: datetime


class Claim(LanceModel):
    """A short lease on a queue item so two reviewers never get the same item at once."""

    queue: str
    item_id: str
    reviewer: str
    expires_at: datetime


class Interaction(LanceModel):
    """One logged interaction of the team's RAG app (the log schema in core/labeling/logs.py).

    `query` is the text as typed; `query_id` the query it was merged into (normalised text,
    then embedding similarity), so a merge stays visible."""

    interaction_id: str
    at: datetime
    query: str
    query_id: str
    retrieved: str = "[]"  # JSON [[doc_id, rank, score], …] in rank order
    cited: str = "[]"  # JSON [doc_id, …]
    clicked: str = "[]"  # JSON [doc_id, …]
    thumbs: str = ""  # "up" | "down" | ""
    comment: str = ""
    session: str = ""
    user: str = ""
    app_version: str = ""
    source: str = ""  # the log file it came from
    imported_at: datetime


class FewShotExample(LanceModel):
    """An approved query pinned into a named few-shot set (by style or segment), in order."""

    set_name: str
    query_id: str
    position: int
    pinned_by: str
    pinned_at: datetime


class JournalEntry(LanceModel):
    """An operation in progress that must be all or nothing even if its process is killed
    (an import): what it wrote so far, so the next open can take it out again."""

    op_id: str
    kind: str  # "import"
    label: str  # what to tell the user, e.g. "import 'cranfield'"
    actor: str
    host: str
    pid: int
    started_at: datetime
    steps: str = "[]"  # JSON: [{"table", "new": [key rows], "backup": side table of replaced rows or ""}]
    source: str = ""  # an import's source name: readers skip its rows until the entry goes (published)


TABLES: dict[str, type[LanceModel]] = {
    "documents": Document,
    "queries": Query,
    "judgments": Judgment,
    "suggestions": Suggestion,
    "runs": Run,
    "metrics": Metric,
    "query_results": QueryResult,
    "curve_points": CurvePoint,
    "events": Event,
    "claims": Claim,
    "interactions": Interaction,
    "fewshot": FewShotExample,
    "journal": JournalEntry,
    "sources": Source,
}

KEYS: dict[str, list[str]] = {
    "documents": ["doc_id"],
    "queries": ["query_id"],
    "judgments": ["query_id", "doc_id", "reviewer"],
    "suggestions": ["query_id", "doc_id", "agent"],
    "runs": ["run_id"],
    "curve_points": ["run_id", "fraction", "seed"],
    "claims": ["queue", "item_id"],
    "interactions": ["interaction_id"],
    "fewshot": ["set_name", "query_id"],
    "journal": ["op_id"],
    "sources": ["source"],
}

# What identifies one row of each table (an operation deletes exactly the rows it wrote by these).
ROW_IDS: dict[str, list[str]] = {
    **KEYS,
    "metrics": ["run_id", "stage", "name", "k"],
    "query_results": ["run_id", "stage", "query_id"],
    "events": ["event_id"],
    "journal": ["op_id"],
}
