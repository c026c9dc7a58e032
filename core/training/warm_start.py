"""Warm start for the re-ranker: before it sees a human label, it learns to score like the retriever.

A fresh one-logit head on the MiniLM backbone ranks far below the retriever (demo validation
nDCG@10 0.475 against 0.675), and a few hundred labels cannot close that gap, so fusion keeps
switching it off. Here each of up to WARM_QUERIES documents gets one offline synthetic query
(no LLM needed); the retriever ranks the corpus for it (from the cached corpus embeddings, no
re-embedding), and the cross-encoder regresses the retriever's cosine for the top WARM_DEPTH
documents (sentence-transformers' MSELoss). The labelled training then starts from a head that
has seen the retriever's ranking. Opt-in: on the demo it did not help (best validation nDCG@10
0.454 against 0.475 without it, retriever 0.675; bench/README.md), so TrainConfig leaves it off.

`pretrain` (config `pretrain`, opt-in) is the Promptagator-style alternative: the workspace's own
synthetic queries (LLM or offline, never an eval or validation query's text) and offline ones for
more documents, each with its source document as the positive, PRETRAIN_MINED of the retriever's
top PRETRAIN_WINDOW and PRETRAIN_RANDOM random documents as negatives, one epoch of binary
cross-entropy before the human grades.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from core.labeling.generation import Examples, OfflineGenerator, Style
from core.search.models import Embedder
from core.search.retrieval import corpus_matrix, rank_many
from core.storage.filters import Not
from core.storage.schemas import QueryOrigin, QueryStatus, Split, document_text
from core.storage.splits import normalise
from core.storage.store import Store
from core.training.callbacks import ProgressCallback, trainer_arguments, without_printing
from core.training.config import TrainConfig
from core.training.jobs import Reporter

WARM_QUERIES = 256
WARM_DEPTH = 10
PHASE = "warm start: distilling the retriever"
PRETRAIN_QUERIES = 512
PRETRAIN_WINDOW = 10
PRETRAIN_MINED = 3
PRETRAIN_RANDOM = 1
PRETRAIN_PHASE = "pre-training on synthetic queries"


def distillation_rows(store: Store, retriever: Embedder, seed: int = 0, queries: int = WARM_QUERIES, depth: int = WARM_DEPTH) -> dict[str, list]:
    """Columns query, document, label: one synthetic query per sampled document, the retriever's
    top `depth` documents for it and their cosine scores."""
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    docs = docs[(docs["title"].str.strip() != "") | (docs["text"].str.strip() != "")]
    picked = sorted(random.Random(seed).sample(range(len(docs)), min(queries, len(docs))))
    generator = OfflineGenerator(seed=seed)
    texts = [generator.queries(docs.iloc[i].to_dict(), Style.question, 1, Examples())[0] for i in picked]
    doc_ids, matrix = corpus_matrix(store, retriever)
    doc_text = {d: document_text(t, x) for d, t, x in zip(docs["doc_id"], docs["title"], docs["text"])}
    rows: dict[str, list] = {"query": [], "document": [], "label": []}
    for text, ranking in zip(texts, rank_many(retriever.encode_queries(texts), doc_ids, matrix, depth)):
        for doc_id, score in ranking:
            if doc_id in doc_text:
                rows["query"].append(text)
                rows["document"].append(doc_text[doc_id])
                rows["label"].append(float(score))
    return rows


def one_epoch(model: Any, rows: dict[str, list], loss: Any, config: TrainConfig, folder: Path, reporter: Reporter, phase: str) -> float:
    """One epoch of CrossEncoderTrainer on `rows` into `model` (in place), whatever the run's own
    epochs and step cap; returns the training loss."""
    from datasets import Dataset
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments

    dataset = Dataset.from_dict(rows)
    once = TrainConfig(**{**config.__dict__, "epochs": 1.0, "max_steps": 0})
    args = CrossEncoderTrainingArguments(**trainer_arguments(once, folder, len(dataset), ""))
    trainer = without_printing(CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss,
                                                   callbacks=[ProgressCallback(reporter, phase=phase)]))
    output = trainer.train()
    reporter.raise_if_cancelled()
    return round(float(output.training_loss), 5)


def warm_start(model: Any, store: Store, retriever: Embedder, config: TrainConfig, checkpoints: Path, reporter: Reporter) -> dict[str, Any]:
    """One epoch of distillation into `model` (in place); returns what it did, for the run's info."""
    from sentence_transformers.cross_encoder.losses import MSELoss

    reporter.phase(PHASE)
    rows = distillation_rows(store, retriever, config.seed)
    if not rows["query"]:
        return {"warm_start_pairs": 0}
    loss = one_epoch(model, rows, MSELoss(model), config, checkpoints / "warm", reporter, PHASE)
    return {"warm_start_pairs": len(rows["query"]), "warm_start_loss": loss}


def held_out_texts(store: Store, validation_ids: list[str]) -> set[str]:
    """Normalised texts of the eval queries and of the run's validation queries: no pre-training query may be one of them."""
    texts = list(store.query_texts(where={"split": Split.eval}).values())
    texts += list(store.query_texts(validation_ids).values()) if validation_ids else []
    return {normalise(t) for t in texts}


def synthetic_queries(store: Store, held_out: set[str], seed: int = 0, count: int = PRETRAIN_QUERIES) -> list[tuple[str, str]]:
    """(query text, source doc id): the workspace's synthetic queries outside the eval split (not
    rejected), then one offline query for each of more sampled documents, up to `count`; none whose
    text is held out."""
    rows = store.read("queries", where={"origin": QueryOrigin.synthetic, "split": Not(Split.eval), "status": Not(QueryStatus.rejected)},
                      columns=["text", "source_doc_id"])
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    known = set(docs["doc_id"])
    out = [(t, d) for t, d in zip(rows["text"], rows["source_doc_id"]) if d in known and normalise(t) not in held_out]
    out = random.Random(seed).sample(out, min(count, len(out)))
    covered, generator = {d for _, d in out}, OfflineGenerator(seed=seed)
    for i in random.Random(seed).sample(range(len(docs)), len(docs)):
        if len(out) >= count:
            break
        doc = docs.iloc[i].to_dict()
        if doc["doc_id"] in covered or not (str(doc["title"]).strip() or str(doc["text"]).strip()):
            continue
        text = generator.queries(doc, Style.question, 1, Examples())[0]
        if normalise(text) not in held_out:
            out.append((text, doc["doc_id"]))
    return out


def pretrain_rows(store: Store, retriever: Embedder, queries: list[tuple[str, str]], seed: int = 0) -> dict[str, list]:
    """Columns query, document, label: each query's source document (1), PRETRAIN_MINED of the
    retriever's top PRETRAIN_WINDOW other documents and PRETRAIN_RANDOM random ones (0)."""
    rng = random.Random(seed)
    doc_ids, matrix = corpus_matrix(store, retriever)
    doc_text = store.document_texts()
    rows: dict[str, list] = {"query": [], "document": [], "label": []}
    if not queries or not doc_ids:
        return rows
    rankings = rank_many(retriever.encode_queries([t for t, _ in queries]), doc_ids, matrix, PRETRAIN_WINDOW + 1)
    for (text, source), ranking in zip(queries, rankings):
        mined = [d for d, _ in ranking if d != source]
        negatives = rng.sample(mined, min(PRETRAIN_MINED, len(mined)))
        taken, others = {source, *mined}, []
        for _ in range(20 * PRETRAIN_RANDOM):  # a few draws: in any corpus bigger than the window most are free
            if len(others) == PRETRAIN_RANDOM:
                break
            pick = doc_ids[rng.randrange(len(doc_ids))]
            if pick not in taken:
                taken.add(pick)
                others.append(pick)
        for doc, label in [(source, 1.0)] + [(d, 0.0) for d in negatives + others]:
            if doc in doc_text:
                rows["query"].append(text)
                rows["document"].append(doc_text[doc])
                rows["label"].append(label)
    return rows


def pretrain(model: Any, store: Store, retriever: Embedder, config: TrainConfig, checkpoints: Path, reporter: Reporter,
             validation_ids: list[str]) -> dict[str, Any]:
    """One epoch of source-document-positive training into `model` (in place); returns what it did, for the run's info."""
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    reporter.phase(PRETRAIN_PHASE)
    queries = synthetic_queries(store, held_out_texts(store, validation_ids), config.seed)
    rows = pretrain_rows(store, retriever, queries, config.seed)
    if not rows["query"]:
        return {"pretrain_pairs": 0}
    loss = one_epoch(model, rows, BinaryCrossEntropyLoss(model), config, checkpoints / "pretrain", reporter, PRETRAIN_PHASE)
    return {"pretrain_queries": len(queries), "pretrain_pairs": len(rows["query"]), "pretrain_loss": loss}
