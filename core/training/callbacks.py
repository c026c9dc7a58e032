"""The bridge between a run and transformers' Trainer: the arguments both trainers share, and
the callback that writes progress into the run's row (kept apart from jobs, so pages that only
read run status never import transformers)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from core.training.config import TrainConfig
from core.training.jobs import Reporter
from core.training.precision import trainer_precision


def eval_steps(config: TrainConfig, rows: int) -> int:
    """Validate every `config.eval_steps` steps, or once per epoch: early stopping and the best
    checkpoint need no more, and on a CPU a pass costs a third of a training step or more
    (twice an epoch was 7 passes, 56 s, of the demo's 21-step bi-encoder run)."""
    if config.eval_steps:
        return config.eval_steps
    return max(1, math.ceil(rows / config.batch_size))


def trainer_arguments(config: TrainConfig, checkpoints: Path, rows: int, metric_key: str) -> dict[str, Any]:
    """Keyword arguments shared by SentenceTransformerTrainingArguments and
    CrossEncoderTrainingArguments: schedule, validation and best-checkpoint rules, seed, precision."""
    validate = bool(metric_key)
    steps = eval_steps(config, rows)
    return {
        "output_dir": str(checkpoints), "num_train_epochs": config.epochs, "max_steps": config.max_steps or -1,
        "per_device_train_batch_size": config.batch_size, "learning_rate": config.learning_rate, "warmup_steps": 0.1,
        "eval_strategy": "steps" if validate else "no", "eval_steps": steps,
        "save_strategy": "steps" if validate else "no", "save_steps": steps, "save_total_limit": 2, "save_only_model": True,
        "load_best_model_at_end": validate, "metric_for_best_model": metric_key or None, "greater_is_better": True,
        "logging_steps": 1, "report_to": "none", "disable_tqdm": True, "seed": config.seed,
    } | trainer_precision(config.precision)


class ProgressCallback(TrainerCallback):
    """Turns trainer events into progress rows, and a stop request into should_training_stop.

    The trainer asks callbacks only between steps, and its validation pass (the evaluator's own
    encode or predict over every validation text) can last minutes on a CPU. So, while training
    lasts, a forward pre-hook on the model raises the job's Cancelled before each inference batch
    once a cancel is requested: validation stops between two batches. Training batches are left
    to should_training_stop, which lets the trainer end its step cleanly."""

    def __init__(self, reporter: Reporter, eval_key: str = "", phase: str = "training"):
        self.reporter, self.eval_key, self.phase = reporter, eval_key, phase
        self._hook: Any = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is not None and hasattr(model, "register_forward_pre_hook"):
            self._hook = model.register_forward_pre_hook(self._cancel_inference)

    def on_train_end(self, args, state, control, **kwargs):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def _cancel_inference(self, module, inputs):
        if not module.training:
            self.reporter.raise_if_cancelled()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.reporter.update(state.global_step, state.max_steps, loss=logs["loss"], phase=self.phase)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and self.eval_key in metrics:
            self.reporter.update(state.global_step, state.max_steps, evaluation={"ndcg@10": metrics[self.eval_key]}, phase=self.phase)

    def on_step_end(self, args, state, control, **kwargs):
        self.reporter.update(state.global_step, state.max_steps, phase=self.phase)
        stop = self.reporter.should_stop()
        if args.world_size > 1:
            stop = agreed(stop, args.device)
        if stop:
            control.should_training_stop = True
        return control


def agreed(stop: bool, device) -> bool:
    """Whether any rank of a data-parallel run stops: rank 0 alone sees a cancel, and a rank
    that trained on alone would wait for the others in its next collective for ever."""
    import torch
    import torch.distributed as dist

    flag = torch.tensor([int(stop)], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())
