"""What is in a workspace, and how far along the flywheel it is (for Home and `flywheel status`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.storage.schemas import IMPORT_REVIEWER, QueryOrigin
from core.storage.store import EMBEDDINGS_PREFIX, Store


@dataclass(frozen=True)
class Milestone:
    name: str
    target: int
    measure: str  # which count it is measured on
    why: str
    next_step: str


MILESTONES = [
    Milestone("Eval set", 20, "judged_queries", "20 judged queries make a held-out set worth measuring on.",
              "Grade candidates for more queries on the Grade page."),
    Milestone("Few-shot prompts", 30, "approved_queries", "30+ approved queries give the generator good few-shot examples.",
              "Generate synthetic queries and approve the good ones on the Review page."),
    Milestone("First fine-tune", 1000, "judged_pairs", "1,000+ graded pairs are enough for a first fine-tuning run.",
              "Keep grading; flag hard negatives, they teach the model most."),
    Milestone("Strong run", 6000, "judged_pairs", "6,000 graded pairs make a strong run.",
              "Grade more pairs on the Grade page (the 'most uncertain first' queue gives the most per minute), "
              "then train again and compare the runs on the Results page."),
]


def status(store: Store) -> dict:
    """Counts of everything stored, as plain JSON-able values."""
    queries = store.read("queries", columns=["query_id", "status", "split", "origin", "reviewer"])
    judgments = store.read("judgments", columns=["query_id", "doc_id", "reviewer", "hard_negative"])
    runs = store.read("runs", columns=["status"])
    return {
        "documents": store.count("documents"),
        "queries": len(queries),
        "queries_by_status": queries["status"].value_counts().to_dict(),
        "queries_by_split": queries["split"].value_counts().to_dict(),
        "queries_by_origin": queries["origin"].value_counts().to_dict(),
        "approved_queries": int((queries["status"] == "approved").sum()),
        "judgments": len(judgments),
        "judged_pairs": int(judgments[["query_id", "doc_id"]].drop_duplicates().shape[0]),
        "judged_queries": int(judgments["query_id"].nunique()),
        "hard_negatives": int(judgments.loc[judgments["hard_negative"], ["query_id", "doc_id"]].drop_duplicates().shape[0]),
        "reviewers": sorted({r for r in judgments["reviewer"] if not r.startswith(IMPORT_REVIEWER)} | set(queries["reviewer"].dropna()) - {""}),
        "runs_by_status": runs["status"].value_counts().to_dict(),
        "logged_interactions": store.count("interactions"),
        "log_queries": int((queries["origin"] == QueryOrigin.log.value).sum()),
        "embedding_tables": sorted(n[len(EMBEDDINGS_PREFIX):] for n in store.table_names() if n.startswith(EMBEDDINGS_PREFIX)),
    }


def milestones(counts: dict) -> list[dict]:
    """Each milestone with its current value, progress 0–1 and whether it is reached."""
    out = []
    for milestone in MILESTONES:
        value = counts[milestone.measure]
        out.append({"name": milestone.name, "value": value, "target": milestone.target, "progress": min(value / milestone.target, 1.0),
                    "reached": value >= milestone.target, "why": milestone.why, "next_step": milestone.next_step})
    return out


def waiting_review(counts: dict) -> str | None:
    """Queries waiting for a reviewer come before any training advice: the state of the loop, not only its milestones."""
    pending = counts["queries_by_status"].get("pending", 0)
    if not pending:
        return None
    return (f"{pending:,} {'query waits' if pending == 1 else 'queries wait'} for review: approve, edit or reject "
            f"{'it' if pending == 1 else 'them'} on the Review page, then grade the approved ones on the Grade page.")


def next_step(counts: dict) -> str:
    if counts["documents"] == 0:
        return "Import documents on the Data page, or load the demo data below (`flywheel demo` on the command line)."
    if waiting_review(counts):
        return waiting_review(counts)
    reached = {m["name"]: m["reached"] for m in milestones(counts)}
    if reached["First fine-tune"] and not counts["runs_by_status"].get("succeeded"):
        return "You have enough labels for a first run: launch one on the Train page, then read it on the Results page."
    for milestone in milestones(counts):
        if not milestone["reached"]:
            return milestone["next_step"]
    return "Launch a fine-tuning run on the Train page and read the result on the Results page."


def reset(store: Store) -> None:
    """Drop every table (the demo's --reset), then recreate the empty ones."""
    for name in store.table_names():
        store.db.drop_table(name)
    store.ensure_tables()
