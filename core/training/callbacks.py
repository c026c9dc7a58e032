"""The bridge from transformers' Trainer to a run's progress row (kept apart from jobs, so
pages that only read run status never import transformers)."""

from __future__ import annotations

from transformers import TrainerCallback

from core.training.jobs import Reporter


class ProgressCallback(TrainerCallback):
    """Turns trainer events into progress rows, and a stop request into should_training_stop."""

    def __init__(self, reporter: Reporter, eval_key: str = ""):
        self.reporter, self.eval_key = reporter, eval_key

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.reporter.update(state.global_step, state.max_steps, loss=logs["loss"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and self.eval_key in metrics:
            self.reporter.update(state.global_step, state.max_steps, evaluation={"ndcg@10": metrics[self.eval_key]})

    def on_step_end(self, args, state, control, **kwargs):
        self.reporter.update(state.global_step, state.max_steps)
        if self.reporter.should_stop():
            control.should_training_stop = True
        return control
