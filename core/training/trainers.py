"""One trainer signature: every kind trains from a `TrainingInputs` and returns its summary.

A run (`run.py`), a learning-curve point (`curve.py`) and each Ray Train worker (through
`run.execute`) call `train(inputs)`; only this module knows which function trains which kind.
Each trainer returns a dict with at least steps, train_loss, rows, best_validation_ndcg@10 and
stopped, plus what its kind adds (fusion weight, precision, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.search.models import Embedder
from core.search.retrieval import Ranking
from core.storage.schemas import RunKind
from core.storage.store import Store
from core.training.config import TrainConfig
from core.training.data import TrainingData
from core.training.jobs import Reporter


@dataclass
class TrainingInputs:
    """What any trainer needs. `base` is the model a bi-encoder or adapter starts from, and the
    first-stage retriever of a cross-encoder. The optional fields spare work a caller has done."""

    store: Store
    config: TrainConfig
    data: TrainingData
    base: Embedder
    model_dir: Path
    reporter: Reporter
    checkpoints: Path | None = None  # default: `checkpoints` beside `model_dir`
    first_stage: Mapping[str, Ranking] | None = None  # cross-encoder: each validation query's first-stage ranking
    corpus: tuple[list[str], np.ndarray] | None = None  # adapter: doc ids and base-model matrix already read
    query_vectors: Mapping[str, np.ndarray] | None = None  # adapter: raw base-model query vectors already embedded

    @property
    def checkpoint_dir(self) -> Path:
        return self.checkpoints or self.model_dir.parent / "checkpoints"


def train(inputs: TrainingInputs) -> dict[str, Any]:
    """Train the kind `inputs.config` names and save it to `inputs.model_dir` (rank 0 only)."""
    kind = inputs.config.kind
    if kind == RunKind.bi_encoder.value:
        from core.training.bi_encoder import train_bi_encoder

        return train_bi_encoder(inputs)
    if kind == RunKind.cross_encoder.value:
        from core.training.cross_encoder import train_cross_encoder

        return train_cross_encoder(inputs)
    if kind == RunKind.adapter.value:
        from core.training.adapter import train_adapter

        return train_adapter(inputs)
    raise ValueError(f"train expects a kind of bi-encoder, cross-encoder or adapter, but got {kind!r}")
