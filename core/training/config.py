"""TrainConfig: the few settings of a training run, typed, validated and saved with the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import InputError
from core.storage.schemas import RunKind

KINDS = (RunKind.bi_encoder.value, RunKind.cross_encoder.value, RunKind.adapter.value)
DEFAULTS: dict[str, dict[str, Any]] = {
    RunKind.bi_encoder.value: {"epochs": 3.0, "batch_size": 32, "learning_rate": 5e-5},
    RunKind.cross_encoder.value: {"epochs": 2.0, "batch_size": 16, "learning_rate": 5e-5},
    RunKind.adapter.value: {"epochs": 40.0, "batch_size": 64, "learning_rate": 1e-3},
}


@dataclass
class TrainConfig:
    """The few settings that matter; None means the kind's default (DEFAULTS)."""

    kind: str = RunKind.bi_encoder.value
    base_model: str = ""  # '' = bundled MiniLM; any local path or hub id
    retriever: str = ""  # cross-encoder only: the bi-encoder whose top-k it re-ranks
    epochs: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_steps: int = 0  # 0 = no cap
    time_budget_s: float = 0.0  # 0 = no budget; training stops and keeps the best model when it passes
    negatives_per_query: int = 3
    positive_grade: int = 3
    validation_fraction: float = 0.15
    eval_steps: int = 0  # 0 = about twice per epoch
    patience: int = 3  # early stopping: evaluations without improvement
    rerank_depth: int = 20
    mining_margin: float = 0.05
    mine: bool = True
    cohere_model: str = "rerank-v3.5"
    seed: int = 0

    def resolved(self) -> TrainConfig:
        if self.kind not in KINDS:
            raise InputError(f"train expects --kind in {', '.join(KINDS)}, but got '{self.kind}'.")
        values = asdict(self) | {k: v for k, v in DEFAULTS[self.kind].items() if getattr(self, k) is None}
        config = TrainConfig(**values)
        checks = [
            ("epochs", config.epochs > 0, "a positive number such as 3"),
            ("batch_size", config.batch_size >= 2, "at least 2 (in-batch negatives need company)"),
            ("learning_rate", 0 < config.learning_rate < 1, "a small positive number such as 5e-5"),
            ("negatives_per_query", 0 <= config.negatives_per_query <= 32, "0 to 32"),
            ("positive_grade", 1 <= config.positive_grade <= 5, "1 to 5"),
            ("max_steps", config.max_steps >= 0, "0 (no cap) or more"),
            ("validation_fraction", 0 <= config.validation_fraction < 0.5, "0 to 0.5"),
        ]
        for name, ok, hint in checks:
            if not ok:
                raise InputError(f"train expects {name} to be {hint}, but got {getattr(config, name)!r}.")
        return config

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
