"""Linear query adapter: a matrix trained on frozen embeddings, the cheap first step.

Queries are multiplied by W (started at the identity); documents keep the base model's
cached embeddings, so nothing is re-embedded. The loss is a softmax over the corpus (or the
training candidates, for corpora past CORPUS_LIMIT) with other positives masked, plus a pull
towards the identity so a little data cannot wreck the base model. A hand-written loop, the
one place the project has one: a single matrix needs no trainer.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from core.evaluation.metrics import VALIDATION_METRIC
from core.search.models import ADAPTER_FILE
from core.search.retrieval import corpus_matrix
from core.training.trainers import TrainingInputs

CORPUS_LIMIT = 50_000
SCALE = 20.0  # the usual cosine temperature (MultipleNegativesRankingLoss's scale)
IDENTITY_PULL = 1e-3


def _ndcg10(scores: np.ndarray, gains: np.ndarray) -> float:
    top = np.argsort(-scores, axis=1)[:, :10]
    discounts = 1.0 / np.log2(np.arange(2, 12))
    dcg = (np.take_along_axis(gains, top, axis=1) * discounts[: top.shape[1]]).sum(1)
    ideal = (-np.sort(-gains, axis=1)[:, :10] * discounts[: top.shape[1]]).sum(1)
    return float(np.mean(np.where(ideal > 0, dcg / np.maximum(ideal, 1e-12), 0.0)))


def train_adapter(inputs: TrainingInputs) -> dict[str, Any]:
    """`inputs.query_vectors` (query id → raw base-model vector) and `inputs.corpus` (doc ids, matrix) spare a caller that
    trains many adapters on the same data (the learning curve) re-embedding queries and re-reading the corpus each time."""
    import torch

    config, data, base, reporter, corpus = inputs.config, inputs.data, inputs.base, inputs.reporter, inputs.corpus

    torch.manual_seed(config.seed)
    doc_ids, matrix = corpus if corpus is not None else corpus_matrix(inputs.store, base)
    index = {d: i for i, d in enumerate(doc_ids)}
    pairs = [(q, d) for q, d in data.pairs if d in index]
    if len(doc_ids) > CORPUS_LIMIT:  # keep the candidates the training data names
        keep = sorted({index[d] for q, _ in pairs for d in data.positives[q] + data.negatives.get(q, []) if d in index})
        doc_ids, matrix = [doc_ids[i] for i in keep], matrix[keep]
        index = {d: i for i, d in enumerate(doc_ids)}
        pairs = [(q, d) for q, d in pairs if d in index]
    queries = sorted({q for q, _ in pairs} | set(data.validation))
    # Raw base-model query vectors: the saved adapter applies to exactly these.
    known = inputs.query_vectors or {}
    qvec = {q: known[q] for q in queries if q in known}
    missing = [q for q in queries if q not in qvec]
    if missing:
        raw = base.model.encode([data.query_text[q] for q in missing], normalize_embeddings=True, show_progress_bar=False)
        qvec.update(zip(missing, np.asarray(raw, dtype=np.float32)))
    docs = torch.tensor(matrix)
    q_train = torch.tensor(np.stack([qvec[q] for q, _ in pairs]))
    target = torch.tensor([index[d] for _, d in pairs])
    mask = torch.zeros(len(pairs), len(doc_ids), dtype=torch.bool)  # other positives of the same query
    for row, (q, d) in enumerate(pairs):
        for other in data.positives[q]:
            if other != d and other in index:
                mask[row, index[other]] = True
    val_ids = [q for q in data.validation if q in qvec]
    val_q = torch.tensor(np.stack([qvec[q] for q in val_ids])) if val_ids else None
    val_gains = np.zeros((len(val_ids), len(doc_ids)), np.float32)
    for row, q in enumerate(val_ids):
        for d, g in data.validation[q].items():
            if d in index:
                val_gains[row, index[d]] = 2.0**g - 1.0

    dim = docs.shape[1]
    identity = torch.eye(dim)
    weight = torch.nn.Parameter(identity.clone())
    optimizer = torch.optim.AdamW([weight], lr=config.learning_rate, weight_decay=0.0)
    per_epoch = max(1, math.ceil(len(pairs) / config.batch_size))
    total = config.max_steps or int(math.ceil(per_epoch * config.epochs))

    def score(q: torch.Tensor) -> torch.Tensor:
        projected = torch.nn.functional.normalize(q @ weight, dim=1)
        return projected @ docs.T

    def validate() -> float:
        with torch.no_grad():
            return _ndcg10(score(val_q).numpy(), val_gains)

    best = validate() if val_ids else None
    best_weight = weight.detach().clone()
    stale, step, loss_value = 0, 0, float("nan")
    generator = torch.Generator().manual_seed(config.seed)
    while step < total:
        order = torch.randperm(len(pairs), generator=generator)
        for start in range(0, len(pairs), config.batch_size):
            batch = order[start : start + config.batch_size]
            logits = score(q_train[batch]).masked_fill(mask[batch], -1e4) * SCALE
            loss = torch.nn.functional.cross_entropy(logits, target[batch]) + IDENTITY_PULL * ((weight - identity) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            loss_value = loss.item()
            reporter.update(step, total, loss=loss_value)
            if step >= total or reporter.should_stop():
                break
        if reporter.stop_reason:
            break
        if val_ids:  # once per epoch: early stopping with the best matrix kept
            current = validate()
            reporter.update(step, total, evaluation={VALIDATION_METRIC: current})
            if current > best + 1e-6:
                best, best_weight, stale = current, weight.detach().clone(), 0
            else:
                stale += 1
                if stale >= config.patience:
                    break
        else:
            best_weight = weight.detach().clone()
    reporter.raise_if_cancelled()
    if reporter.stop_reason and not val_ids:
        best_weight = weight.detach().clone()
    model_dir = inputs.model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    np.save(model_dir / "adapter.npy", best_weight.numpy().astype(np.float32))
    (model_dir / ADAPTER_FILE).write_text(json.dumps({"base_model": base.path, "matrix": "adapter.npy", "dim": dim}))
    return {"steps": step, "train_loss": round(loss_value, 5), "rows": len(pairs), "best_validation_ndcg@10": None if best is None else round(best, 5),
            "stopped": reporter.stop_reason or "completed"}
