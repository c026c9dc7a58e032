"""TrainConfig: the few settings of a training run, typed, validated and saved with the run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
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


def setting(default: Any, *, help: str, flag: str = "", kind: type | None = None, low: float | None = None, high: float | None = None,
            above: bool = False, hint: str = "", choices: tuple[str, ...] = ()) -> Any:
    """A TrainConfig field with what every surface needs to know about it, said once: the CLI
    flag and its help, the type, the bounds (`above`: strictly greater than `low`) with the hint
    an error gives, or the allowed choices. The checks, the CLI and the Train page read these."""
    meta = {"help": help, "flag": flag, "kind": kind or type(default), "low": low, "high": high, "above": above, "hint": hint,
            "choices": choices}
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """The few settings that matter; None means the kind's default (DEFAULTS)."""

    kind: str = setting(RunKind.bi_encoder.value, help="what to train", choices=KINDS)
    base_model: str = setting("", flag="--base-model", help="local path or hub id (default: the bundled MiniLM)")
    retriever: str = setting("", flag="--retriever", help="cross-encoder: the bi-encoder whose top-k it re-ranks (default: bundled MiniLM)")
    epochs: float | None = setting(None, flag="--epochs", kind=float, low=0, above=True, high=MAX_EPOCHS,
                                   help="epochs (default per kind: bi 3, cross 2, adapter 40)", hint=f"a positive number up to {MAX_EPOCHS} such as 3")
    batch_size: int | None = setting(None, flag="--batch-size", kind=int, low=2, high=4096, hint="2 to 4096 (in-batch negatives need company)",
                                     help="batch size (default per kind: bi 32, cross 16, adapter 64)")
    learning_rate: float | None = setting(None, flag="--lr", kind=float, low=0, above=True, high=0.1, hint="a small positive number such as 5e-5",
                                          help="learning rate (default per kind: bi/cross 5e-5, adapter 1e-3)")
    max_steps: int = setting(0, flag="--max-steps", low=0, high=MAX_STEPS, hint=f"0 (no cap) to {MAX_STEPS:,}",
                             help="stop after this many steps (0 = no cap)")
    time_budget_s: float = setting(0.0, flag="--time-budget", low=0, high=MAX_TIME_BUDGET_S, hint=f"0 (no budget) to {MAX_TIME_BUDGET_S:,} seconds (a week)",
                                   help="stop after this many seconds and keep the best model (0 = none)")
    negatives_per_query: int | None = setting(None, flag="--negatives", kind=int, low=0, high=32, hint="0 to 32",
                                              help="hard negatives per query (default per kind: bi 1, cross/adapter 3)")
    positive_grade: int = setting(0, flag="--positive-grade", low=0, high=FLYWHEEL_TOP,
                                  hint=f"0 (the top band of each query's scale) or 1 to {FLYWHEEL_TOP}",
                                  help="grade that makes a positive (default 0: the top band of each query's scale, e.g. 1 on binary qrels, 3 on 0-5)")
    validation_fraction: float = setting(0.15, flag="--validation-fraction", low=0, high=0.49, hint="0 to 0.49",
                                         help="share of train queries held out for early stopping and fusion weights (default 0.15)")
    eval_steps: int = setting(0, low=0, high=MAX_STEPS, hint="0 (once per epoch) or a step count", help="validate every this many steps (0 = once per epoch)")
    patience: int = setting(3, flag="--patience", low=1, high=100, hint="1 to 100 evaluations",
                            help="evaluations without improvement before early stopping (default 3)")
    rerank_depth: int = setting(20, low=1, high=1000, hint="1 to 1000", help="cross-encoder: how many first-stage documents it re-ranks")
    warm_start: bool = setting(False, help="cross-encoder: first distil the retriever's scores over synthetic queries (training.warm_start)")
    pretrain: bool = setting(False, help="cross-encoder: first train on synthetic queries, source document positive (warm_start.pretrain)")
    # "bce" (binary cross-entropy on grade / top, pairwise rows) or "lambda" (LambdaLoss on each train query's list of judged and
    # mined documents, labels the grades; opt-in: on the demo it scored 0.465 validation nDCG@10 alone against bce's 0.475)
    cross_encoder_loss: str = setting("bce", flag="--cross-encoder-loss", choices=LOSSES,
                                      help="cross-encoder: 'bce' (default, pairwise) or 'lambda' (LambdaLoss on each query's graded list)")
    mining_margin: float = setting(MARGIN, low=0, high=1, hint="0 to 1", help="a mined negative scores at most this share of its positive")
    mine: bool = setting(True, help="mine hard negatives with the base model")
    precision: str = setting("auto", flag="--precision", choices=PRECISIONS,
                             help="'auto' (default: bf16 autocast where the CPU or GPU computes bf16 natively), 'fp32' or 'bf16'")
    cohere_model: str = setting("rerank-v3.5", help="Cohere rerank model for the optional comparison row")
    seed: int = setting(0, flag="--seed", low=0, high=2**31 - 1, hint="0 to 2**31 - 1", help="random seed (default 0)")

    def resolved(self) -> TrainConfig:
        if self.kind not in KINDS:
            raise InputError(f"train expects --kind in {', '.join(KINDS)}, but got '{self.kind}'.")
        values = asdict(self) | {k: v for k, v in DEFAULTS[self.kind].items() if getattr(self, k) is None}
        config = TrainConfig(**values)
        for spec in fields(config):
            check(spec, getattr(config, spec.name))
        return config

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def check(spec, value: Any) -> None:
    """One field's value against its metadata, in the house error style."""
    meta, name = spec.metadata, spec.name
    if meta["choices"]:
        if value not in meta["choices"]:
            raise InputError(f"train expects {name} to be {' or '.join(repr(c) for c in meta['choices'])}, but got {value!r}.")
        return
    if meta["kind"] not in (int, float):
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or (meta["kind"] is int and value != int(value)):
        raise InputError(f"train expects {name} to be a finite {'whole ' if meta['kind'] is int else ''}number, but got {value!r}.")
    low, high = meta["low"], meta["high"]
    if (low is not None and (value <= low if meta["above"] else value < low)) or (high is not None and value > high):
        raise InputError(f"train expects {name} to be {meta['hint']}, but got {value!r}.")


def bounds(name: str) -> tuple[float | None, float | None]:
    """(lowest, highest) value a field accepts, for a page's number inputs (a strict lower bound is left to the check)."""
    meta = TrainConfig.__dataclass_fields__[name].metadata
    return (None if meta["above"] else meta["low"]), meta["high"]


def cli_options() -> dict[str, tuple[str, type, str]]:
    """flag -> (field, type, help) of every field the CLI exposes."""
    return {f.metadata["flag"]: (f.name, f.metadata["kind"], f.metadata["help"]) for f in fields(TrainConfig) if f.metadata["flag"]}
