"""TrainConfig: the few settings of a training run, typed, validated and saved with the run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import InputError
from core.labeling.labels import FLYWHEEL_TOP
from core.search.mining import MARGIN, NEGATIVES_PER_QUERY
from core.storage.schemas import RunKind
from core.training.precision import PRECISIONS

KINDS = (RunKind.bi_encoder.value, RunKind.cross_encoder.value, RunKind.adapter.value)
# The bi-encoder reads one mined negative per row: MultipleNegativesRankingLoss already contrasts
# each query with every other row's documents, and a step costs in proportion to the texts per
# row, so 1 instead of 3 halves the demo run's steps at no loss (bench/README.md, issue 13).
DEFAULTS: dict[str, dict[str, Any]] = {
    RunKind.bi_encoder.value: {"epochs": 3.0, "batch_size": 32, "learning_rate": 5e-5, "negatives_per_query": 1},
    RunKind.cross_encoder.value: {"epochs": 2.0, "batch_size": 16, "learning_rate": 5e-5, "negatives_per_query": NEGATIVES_PER_QUERY},
    RunKind.adapter.value: {"epochs": 40.0, "batch_size": 64, "learning_rate": 1e-3, "negatives_per_query": NEGATIVES_PER_QUERY},
}

LOSSES = ("bce", "lambda")  # cross-encoder losses (training.cross_encoder)
MAX_EPOCHS = 1000
MAX_STEPS = 10_000_000
MAX_TIME_BUDGET_S = 7 * 24 * 3600


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
    negatives_per_query: int | None = None
    positive_grade: int = 0  # 0 = the top band of each query's relevance scale (labels.Scale.positive)
    validation_fraction: float = 0.15
    eval_steps: int = 0  # 0 = once per epoch
    patience: int = 3  # early stopping: evaluations without improvement
    rerank_depth: int = 20
    warm_start: bool = False  # cross-encoder: first distil the retriever's scores over synthetic queries (training.warm_start)
    pretrain: bool = False  # cross-encoder: first train on synthetic queries, source document positive (warm_start.pretrain)
    # cross-encoder: "bce" (binary cross-entropy on grade / top, pairwise rows) or "lambda" (LambdaLoss
    # on each train query's list of judged and mined documents, labels the grades; opt-in: on the demo it
    # scored 0.465 validation nDCG@10 alone against bce's 0.475, retriever 0.675; bench/README.md)
    cross_encoder_loss: str = "bce"
    mining_margin: float = MARGIN
    mine: bool = True
    precision: str = "auto"  # "auto": bf16 autocast where the hardware computes it natively (training.precision), else fp32
    cohere_model: str = "rerank-v3.5"
    seed: int = 0

    def resolved(self) -> TrainConfig:
        if self.kind not in KINDS:
            raise InputError(f"train expects --kind in {', '.join(KINDS)}, but got '{self.kind}'.")
        values = asdict(self) | {k: v for k, v in DEFAULTS[self.kind].items() if getattr(self, k) is None}
        config = TrainConfig(**values)
        for name, kind in (("epochs", float), ("learning_rate", float), ("time_budget_s", float), ("validation_fraction", float),
                           ("mining_margin", float), ("batch_size", int), ("max_steps", int), ("negatives_per_query", int),
                           ("positive_grade", int), ("eval_steps", int), ("patience", int), ("rerank_depth", int), ("seed", int)):
            value = getattr(config, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not number or (kind is int and value != int(value)):
                raise InputError(f"train expects {name} to be a finite {'whole ' if kind is int else ''}number, but got {value!r}.")
        checks = [
            ("epochs", 0 < config.epochs <= MAX_EPOCHS, f"a positive number up to {MAX_EPOCHS} such as 3"),
            ("batch_size", 2 <= config.batch_size <= 4096, "2 to 4096 (in-batch negatives need company)"),
            ("learning_rate", 0 < config.learning_rate < 1, "a small positive number such as 5e-5"),
            ("negatives_per_query", 0 <= config.negatives_per_query <= 32, "0 to 32"),
            ("positive_grade", 0 <= config.positive_grade <= FLYWHEEL_TOP, f"0 (the top band of each query's scale) or 1 to {FLYWHEEL_TOP}"),
            ("max_steps", 0 <= config.max_steps <= MAX_STEPS, f"0 (no cap) to {MAX_STEPS:,}"),
            ("time_budget_s", 0 <= config.time_budget_s <= MAX_TIME_BUDGET_S, f"0 (no budget) to {MAX_TIME_BUDGET_S:,} seconds (a week)"),
            ("validation_fraction", 0 <= config.validation_fraction < 0.5, "0 to 0.5"),
            ("eval_steps", 0 <= config.eval_steps <= MAX_STEPS, "0 (once per epoch) or a step count"),
            ("patience", 1 <= config.patience <= 100, "1 to 100 evaluations"),
            ("rerank_depth", 1 <= config.rerank_depth <= 1000, "1 to 1000"),
            ("mining_margin", 0 <= config.mining_margin <= 1, "0 to 1"),
        ]
        checks.append(("cross_encoder_loss", config.cross_encoder_loss in LOSSES, " or ".join(f"'{x}'" for x in LOSSES)))
        checks.append(("precision", config.precision in PRECISIONS, " or ".join(f"'{x}'" for x in PRECISIONS)))
        for name, ok, hint in checks:
            if not ok:
                raise InputError(f"train expects {name} to be {hint}, but got {getattr(config, name)!r}.")
        return config

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
