"""The bridge between a run and transformers' Trainer: the arguments both trainers share, and
the callback that writes progress into the run's row (kept apart from jobs, so pages that only
read run status never import transformers)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from transformers import PrinterCallback, TrainerCallback

from core.evaluation.metrics import VALIDATION_METRIC
from core.training.config import TrainConfig
from core.training.jobs import Reporter
from core.training.precision import trainer_precision

VALIDATION_NAME = "val"  # the sentence-transformers evaluators' name: their metric keys read eval_val_…


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


def without_printing(trainer: Any) -> Any:
    """The trainer without its PrinterCallback: with disable_tqdm the Trainer prints every log dict
    ({'loss': …, 'grad_norm': …}) to stdout, whose last line the CLI keeps for its JSON, and
    ProgressCallback already carries step, loss and ETA to the run's row and the CLI's bar."""
    trainer.remove_callback(PrinterCallback)
    return trainer


class ProgressCallback(TrainerCallback):
    """Turns trainer events into progress rows, and a stop request into should_training_stop.

    The trainer asks callbacks only between steps, yet one step on real data lasts longer than a
    cancel may take (CISI in the app's server: about 15 s), and its validation pass (the
    evaluator's own encode or predict over every validation text) can last minutes on a CPU. So,
    while training lasts, hooks raise the job's Cancelled once a cancel is requested: before each
    inference batch, and in a single-process run also inside the training step, before each
    submodule's forward and as each of their outputs' gradients is computed in backward (a
    cancelled run's half step is thrown away with the rest). A data-parallel rank must not leave
    the others waiting in a collective, so there training stops at should_training_stop."""

    def __init__(self, reporter: Reporter, eval_key: str = "", phase: str = "training"):
        self.reporter, self.eval_key, self.phase = reporter, eval_key, phase
        self._hooks: list[Any] = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is None or not hasattr(model, "register_forward_pre_hook"):
            return
        self._hooks.append(model.register_forward_pre_hook(self._cancel_inference))
        if args.world_size == 1:
            for module in model.modules():
                if next(module.children(), None) is None:  # the leaves: linear layers, norms, embeddings
                    self._hooks.append(module.register_forward_pre_hook(self._cancel))
                    self._hooks.append(module.register_forward_hook(self._cancel_in_backward))

    def on_train_end(self, args, state, control, **kwargs):
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def _cancel_inference(self, module, inputs):
        if not module.training:
            self.reporter.raise_if_cancelled()

    def _cancel(self, *_):
        self.reporter.raise_if_cancelled()

    def _cancel_in_backward(self, module, inputs, output):
        import torch

        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(self._cancel)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.reporter.update(state.global_step, state.max_steps, loss=logs["loss"], phase=self.phase)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and self.eval_key in metrics:
            self.reporter.update(state.global_step, state.max_steps, evaluation={VALIDATION_METRIC: metrics[self.eval_key]}, phase=self.phase)

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
