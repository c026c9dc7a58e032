"""Warm start for the re-ranker: before it sees a human label, it learns to score like the retriever.

A fresh one-logit head on the MiniLM backbone ranks far below the retriever (demo validation
nDCG@10 0.475 against 0.675), and a few hundred labels cannot close that gap, so fusion keeps
switching it off. Here each of up to WARM_QUERIES documents gets one offline synthetic query
(no LLM needed); the retriever ranks the corpus for it (from the cached corpus embeddings, no
re-embedding), and the cross-encoder regresses the retriever's cosine for the top WARM_DEPTH
documents (sentence-transformers' MSELoss). The labelled training then starts from a head that
has seen the retriever's ranking. Opt-in: on the demo it did not help (best validation nDCG@10
0.454 against 0.475 without it, retriever 0.675; bench/README.md), so TrainConfig leaves it off.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from core.labeling.generation import Examples, OfflineGenerator, Style
from core.search.models import Embedder
from core.search.retrieval import corpus_matrix, rank_many
from core.storage.schemas import document_text
from core.storage.store import Store
from core.training.callbacks import ProgressCallback, trainer_arguments, without_printing
from core.training.config import TrainConfig
from core.training.jobs import Reporter

WARM_QUERIES = 256
WARM_DEPTH = 10
PHASE = "warm start: distilling the retriever"


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


def warm_start(model: Any, store: Store, retriever: Embedder, config: TrainConfig, checkpoints: Path, reporter: Reporter) -> dict[str, Any]:
    """One epoch of distillation into `model` (in place); returns what it did, for the run's info."""
    from datasets import Dataset
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import MSELoss

    reporter.phase(PHASE)
    rows = distillation_rows(store, retriever, config.seed)
    if not rows["query"]:
        return {"warm_start_pairs": 0}
    dataset = Dataset.from_dict(rows)
    warm = TrainConfig(**{**config.__dict__, "epochs": 1.0, "max_steps": 0})
    args = CrossEncoderTrainingArguments(**trainer_arguments(warm, checkpoints / "warm", len(dataset), ""))
    trainer = without_printing(CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=MSELoss(model),
                                                   callbacks=[ProgressCallback(reporter, phase=PHASE)]))
    output = trainer.train()
    reporter.raise_if_cancelled()
    return {"warm_start_pairs": len(dataset), "warm_start_loss": round(float(output.training_loss), 5)}
