"""Exporting judgments for other tools: BEIR/TREC qrels, triplets, a datasets folder, Cohere rerank JSONL.

Grades from several reviewers are merged by core.labeling.labels.consensus (median), so every
format says the same thing about a (query, document).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import pandas as pd

from core.errors import InputError
from core.labeling.fewshot import export_fewshot
from core.labeling.labels import Scale, consensus_labels, negative_mask, negative_rule, positive_mask, positive_rule
from core.search.mining import MARGIN, NEGATIVES_PER_QUERY, training_negatives
from core.search.models import Embedder, Progress, document_text
from core.search.retrieval import corpus_matrix
from core.storage.auth import Action, User, actor_name
from core.storage.schemas import QueryStatus, Split, target
from core.storage.store import Store

TRIPLET_COLUMNS = ["query_id", "anchor", "positive", "negative", "split"]
SPLIT_FILES = {Split.train.value: "train", Split.eval.value: "test", Split.none.value: "unassigned"}


class ExportFormat(StrEnum):
    beir = "beir"
    triplets = "triplets"
    hf = "hf"
    cohere = "cohere"
    fewshot = "fewshot"


def _labelled(store: Store) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(labels joined to their query's split, the queries, the documents) — rejected queries left out."""
    labels = consensus_labels(store)
    queries = store.read("queries", columns=["query_id", "text", "split", "status"])
    queries = queries[queries["status"] != QueryStatus.rejected.value]
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    labels = labels.merge(queries[["query_id", "split"]], on="query_id", how="inner")
    if labels.empty:
        raise InputError("there are no judgments to export yet: grade some documents or import qrels first")
    return labels, queries, docs


def _write_jsonl(path: Path, records) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def export_beir(store: Store, out: Path) -> dict[str, int]:
    """corpus.jsonl, queries.jsonl, qrels/{train,test,unassigned}.tsv, hard_negatives.tsv and a TREC qrels file."""
    labels, queries, docs = _labelled(store)
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    counts = {"documents": _write_jsonl(out / "corpus.jsonl", ({"_id": d, "title": t, "text": x} for d, t, x in docs.itertuples(index=False)))}
    judged = queries[queries["query_id"].isin(labels["query_id"])]
    counts["queries"] = _write_jsonl(out / "queries.jsonl", ({"_id": q, "text": t} for q, t in zip(judged["query_id"], judged["text"])))
    for split, frame in labels.groupby("split"):
        name = SPLIT_FILES[split]
        frame[["query_id", "doc_id", "grade"]].rename(columns={"query_id": "query-id", "doc_id": "corpus-id", "grade": "score"}).to_csv(
            out / "qrels" / f"{name}.tsv", sep="\t", index=False
        )
        counts[f"qrels_{name}"] = len(frame)
    negatives = labels[labels["hard_negative"]]
    negatives[["query_id", "doc_id"]].rename(columns={"query_id": "query-id", "doc_id": "corpus-id"}).to_csv(
        out / "hard_negatives.tsv", sep="\t", index=False
    )
    with (out / "qrels.trec").open("w") as handle:
        for query_id, doc_id, grade in labels[["query_id", "doc_id", "grade"]].itertuples(index=False):
            handle.write(f"{query_id} 0 {doc_id} {grade}\n")
    counts["hard_negatives"] = len(negatives)
    return counts


def _document_texts(docs: pd.DataFrame) -> dict[str, str]:
    return {d: document_text(t, x) for d, t, x in docs[["doc_id", "title", "text"]].itertuples(index=False)}


def training_triplets(labels: pd.DataFrame, queries: pd.DataFrame, docs: pd.DataFrame, relevant_grade: int = 1) -> pd.DataFrame:
    """(anchor, positive, negative) rows: each positive (labels.positive_mask: the top band of its
    query's scale) with each negative of the same query (labels.negative_mask with the eval's
    `relevant_grade`, the rule training uses), flagged hard negatives first."""
    text = _document_texts(docs)
    query_text = dict(zip(queries["query_id"], queries["text"]))
    rows = []
    for query_id, group in labels.groupby("query_id"):
        positives = group[positive_mask(group)]
        negatives = group[negative_mask(group, relevant_grade=relevant_grade)]
        negatives = negatives.sort_values(["hard_negative", "grade"], ascending=[False, True])
        for positive in positives["doc_id"]:
            for negative in negatives["doc_id"]:
                rows.append({"query_id": query_id, "anchor": query_text[query_id], "positive": text[positive],
                             "negative": text[negative], "split": group["split"].iloc[0]})
    return pd.DataFrame(rows, columns=TRIPLET_COLUMNS)


def mined_triplets(store: Store, labels: pd.DataFrame, queries: pd.DataFrame, docs: pd.DataFrame, embedder: Embedder,
                   skip: set[str], progress: Progress | None = None) -> pd.DataFrame:
    """Triplets for queries with a positive but no judged negative (binary qrels that list only
    relevant documents, as most BEIR sets do): negatives mined by the recipe training uses, never
    a document judged for the query."""
    labels = labels[~labels["query_id"].isin(skip)]
    positives = labels[positive_mask(labels)].sort_values("grade", ascending=False)
    by_query: dict[str, list[str]] = {}
    for q, d in zip(positives["query_id"], positives["doc_id"], strict=True):
        by_query.setdefault(q, []).append(d)
    if not by_query:
        return pd.DataFrame(columns=TRIPLET_COLUMNS)
    text = _document_texts(docs)
    query_text = dict(zip(queries["query_id"], queries["text"], strict=True))
    split = dict(zip(queries["query_id"], queries["split"], strict=True))
    doc_ids, matrix = corpus_matrix(store, embedder, progress)  # stored once per model; later exports and runs reuse it
    judged = set(zip(labels["query_id"], labels["doc_id"], strict=True))
    negatives = training_negatives(embedder.model, {q: query_text[q] for q in by_query}, text, by_query, NEGATIVES_PER_QUERY, MARGIN,
                                   corpus_vectors=dict(zip(doc_ids, matrix, strict=True)))
    kept: dict[str, list[str]] = {}
    for q, d in negatives:
        if (q, d) not in judged and d not in kept.setdefault(q, []) and len(kept[q]) < NEGATIVES_PER_QUERY:
            kept[q].append(d)
    rows = [{"query_id": q, "anchor": query_text[q], "positive": text[p], "negative": text[n], "split": split[q]}
            for q, found in kept.items() for p in by_query[q] for n in found]
    return pd.DataFrame(rows, columns=TRIPLET_COLUMNS)


def export_triplets(store: Store, out: Path, embedder: Embedder | None = None, progress: Progress | None = None,
                    relevant_grade: int = 1) -> dict[str, int]:
    """Judged triplets, plus mined negatives (with `embedder`) for queries that have none judged."""
    labels, queries, docs = _labelled(store)
    out.mkdir(parents=True, exist_ok=True)
    triplets = training_triplets(labels, queries, docs, relevant_grade)
    mined = mined_triplets(store, labels, queries, docs, embedder, set(triplets["query_id"]), progress) if embedder else triplets.iloc[:0]
    if triplets.empty and mined.empty:
        rule = positive_rule(scales={Scale(int(t)) for t in labels["top"]})
        raise InputError(f"the triplet export expects a query with a positive ({rule}) and a negative ({negative_rule(relevant_grade=relevant_grade)}, or mined with a "
                         "model), but got none; grade a few positives in the train split first")
    both = pd.concat([triplets, mined], ignore_index=True)
    return {"triplets": _write_jsonl(out / "triplets.jsonl", both[["anchor", "positive", "negative"]].to_dict("records")),
            "mined_triplets": len(mined)}


def export_hf(store: Store, out: Path) -> dict[str, int]:
    """A `datasets.DatasetDict` folder (train / eval / unassigned) of graded pairs, for load_from_disk."""
    from datasets import Dataset, DatasetDict

    labels, queries, docs = _labelled(store)
    text = _document_texts(docs)
    query_text = dict(zip(queries["query_id"], queries["text"]))
    frame = labels.assign(query=labels["query_id"].map(query_text), document=labels["doc_id"].map(text))
    frame = frame[["query_id", "query", "doc_id", "document", "grade", "hard_negative", "split"]]
    splits = {split: Dataset.from_pandas(part.drop(columns="split").reset_index(drop=True)) for split, part in frame.groupby("split")}
    DatasetDict(splits).save_to_disk(str(out / "hf"))
    return {f"hf_{split}": len(dataset) for split, dataset in splits.items()}


def export_cohere(store: Store, out: Path, relevant_grade: int = 1) -> dict[str, int]:
    """Cohere rerank fine-tuning JSONL: {query, relevant_passages, hard_negatives} per query."""
    labels, queries, docs = _labelled(store)
    out.mkdir(parents=True, exist_ok=True)
    text = _document_texts(docs)
    query_text = dict(zip(queries["query_id"], queries["text"]))
    records = []
    for query_id, group in labels.groupby("query_id"):
        relevant = [text[d] for d in group.loc[positive_mask(group), "doc_id"]]
        negatives = [text[d] for d in group.loc[negative_mask(group, relevant_grade=relevant_grade), "doc_id"]]
        if relevant:
            records.append({"query": query_text[query_id], "relevant_passages": relevant, "hard_negatives": negatives})
    return {"cohere": _write_jsonl(out / "cohere_rerank.jsonl", records)}


EXPORTERS = {
    ExportFormat.beir: export_beir,
    ExportFormat.triplets: export_triplets,
    ExportFormat.hf: export_hf,
    ExportFormat.cohere: export_cohere,
    ExportFormat.fewshot: export_fewshot,
}


def export(store: Store, fmt: ExportFormat | str, out: str | Path, actor: str | User = "cli", embedder: Embedder | None = None,
           progress: Progress | None = None, relevant_grade: int = 1) -> dict[str, int]:
    """Write the export and log who took it (an export is a copy of the team's labels);
    `embedder` mines negatives for triplets where no judged one exists. `relevant_grade`
    (Settings.relevant_grade): no grade the eval counts as relevant is exported as a negative."""
    actor = actor_name(actor, Action.export_data)
    fmt = ExportFormat(fmt)
    if fmt is ExportFormat.triplets:
        counts = export_triplets(store, Path(out), embedder, progress, relevant_grade)
    elif fmt is ExportFormat.cohere:
        counts = export_cohere(store, Path(out), relevant_grade)
    else:
        counts = EXPORTERS[fmt](store, Path(out))
    store.log(actor, "export", target("export", fmt.value), **counts)
    return counts
