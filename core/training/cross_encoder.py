"""Cross-encoder re-ranker: CrossEncoderTrainer on graded pairs, fused with the retriever.

Labels are grade / the top of the query's scale (positives 1, negatives 0) under BinaryCrossEntropyLoss, or (config
cross_encoder_loss "lambda"; opt-in, it did not beat BCE on the demo) each train query's list of judged and mined
documents with its grades under LambdaLoss. It starts from
the bundled MiniLM backbone with a fresh one-logit head (no pretrained re-ranker ships
offline). The final score is w * reranker + (1 - w) * retriever (each min-max normalised per
query), with w chosen on validation queries from a grid that includes 0 and kept only when its
gain over the retriever alone is significant there: a re-ranker that does not clearly help is
switched off rather than trusted on noise. A run ships the re-ranking stage of training.ltr instead,
which starts from the fused retriever and takes this model's logit as one feature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.evaluation import metrics, stats
from core.progress import Progress
from core.search.fusion import WEIGHTS, convex
from core.search.precision import autocast, for_inference, inference_precision, model_device
from core.search.retrieval import Ranking
from core.storage.store import Store
from core.training.callbacks import VALIDATION_NAME, ProgressCallback, trainer_arguments, without_printing
from core.training.config import TrainConfig
from core.training.data import TrainingData, cross_encoder_lists, cross_encoder_rows
from core.training.jobs import Reporter
from core.training.trainers import TrainingInputs

RERANKER_FILE = "flywheel_reranker.json"
DEFAULT_WEIGHT = 0.5


def fuse(ranking: Ranking, rerank_scores: np.ndarray, weight: float) -> Ranking:
    """The re-ranker's scores fused with its first stage's by the one fusion rule (`fusion.convex`)."""
    fused = convex(np.asarray(rerank_scores, dtype=np.float64), np.array([s for _, s in ranking], dtype=np.float64), weight)
    order = sorted(range(len(ranking)), key=lambda i: (-fused[i], i))
    return [(ranking[i][0], float(fused[i])) for i in order]


def score_pairs(model: Any, pairs: list[tuple[str, str]], progress: Progress | None = None, batch_size: int = 64) -> np.ndarray:
    """Each (query, document) pair scored once, in batches, telling `progress` after each (where a cancel lands);
    in the inference precision (bf16 autocast where native), also for a model fresh from training."""
    out = []
    precision = getattr(model, "flywheel_precision", None) or inference_precision(None, model_device(model))
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        with autocast(model, precision):
            scores = model.predict(batch, batch_size=batch_size, show_progress_bar=False)
        out.append(np.asarray(scores, dtype=np.float64).reshape(-1))
        if progress:
            progress(start + len(batch), len(pairs))
    return np.concatenate(out) if out else np.zeros(0)


def score_rankings(model: Any, rankings: Mapping[str, Ranking], query_text: Mapping[str, str], doc_text: Mapping[str, str],
                   progress: Progress | None = None) -> dict[str, np.ndarray]:
    """The re-ranker's score for every document of every ranking, all pairs in one batched pass."""
    pairs = [(query_text[q], doc_text[d]) for q, ranking in rankings.items() for d, _ in ranking]
    flat, out, start = score_pairs(model, pairs, progress), {}, 0
    for q, ranking in rankings.items():
        out[q], start = flat[start : start + len(ranking)], start + len(ranking)
    return out


def choose_fusion(model: Any, rankings: Mapping[str, Ranking], data: TrainingData, reporter: Reporter | None = None) -> dict[str, Any]:
    """Score each validation pair once, then try every weight of the grid on those same scores."""
    progress = reporter.progress("choosing the fusion weight: scoring validation pairs", "pairs") if reporter else None
    scores = score_rankings(model, rankings, data.query_text, data.doc_text, progress)
    if reporter:
        reporter.phase("choosing the fusion weight: trying weights", len(WEIGHTS), "weights")
    return choose_weight(rankings, scores, {q: data.validation[q] for q in rankings}, reporter.work if reporter else None, data.relevant_grade)


def choose_weight(rankings: Mapping[str, Ranking], scores: Mapping[str, np.ndarray], qrels: dict[str, dict[str, int]],
                  progress: Progress | None = None, relevant_grade: int = 1) -> dict[str, Any]:
    """The fusion weight with the best validation nDCG@10 (ties go to the smaller weight), kept
    only when its gain over the retriever alone is significant (one-sided paired randomization
    test, p < ALPHA); otherwise 0. On a few dozen validation queries the best weight is often
    noise, and noise must not make held-out results worse than the retriever."""
    means, per_query = {}, {}
    for i, w in enumerate(WEIGHTS, start=1):
        fused = {q: fuse(r, scores[q], w) for q, r in rankings.items()}
        mean, per_query[w] = metrics.compute(qrels, fused, relevant_grade)
        means[w] = mean[metrics.VALIDATION_METRIC]
        if progress:
            progress(i, len(WEIGHTS))
    best = max(WEIGHTS, key=lambda w: (round(means[w], 9), -w))
    p_value = 1.0
    if best > 0:
        queries = sorted(per_query[0.0])
        before, after = ([per_query[w][q][metrics.VALIDATION_METRIC] for q in queries] for w in (0.0, best))
        p_value = stats.paired_p_value(before, after) / 2  # one-sided: the gain is > 0 here
    weight = best if p_value < stats.ALPHA else 0.0
    return {"weight": weight, "best_weight": best, "p_value": round(p_value, 4), "grid": {str(w): round(v, 5) for w, v in means.items()}}


class Reranker:
    """A saved cross-encoder and its fusion settings; re-ranks a retriever's top-k."""

    def __init__(self, path: str, weight: float | None = None):
        from sentence_transformers import CrossEncoder

        spec_file = Path(path) / RERANKER_FILE
        self.spec = json.loads(spec_file.read_text()) if spec_file.exists() else {}
        self.weight = float(weight if weight is not None else self.spec.get("weight", DEFAULT_WEIGHT))
        self.model = for_inference(CrossEncoder(path))  # scores in the inference precision

    def scores(self, query: str, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return np.asarray(self.model.predict([(query, t) for t in texts], batch_size=64, show_progress_bar=False), dtype=np.float64)

    def rerank_all(self, store: Store, rankings: Mapping[str, Ranking], progress: Progress | None = None) -> dict[str, Ranking]:
        """Each ranking of a stored query fused with the re-ranker's scores."""
        return self.rerank_texts(store, rankings, store.query_texts(rankings), progress)

    def rerank_texts(self, store: Store, rankings: Mapping[str, Ranking], query_text: Mapping[str, str],
                     progress: Progress | None = None) -> dict[str, Ranking]:
        """Each ranking fused with the re-ranker's scores, for queries given as text. At weight 0
        (validation found no weight that beat the first stage) the fusion is the first stage's
        order, so nothing is scored: on the demo that was 55 s of a 262 s run."""
        if self.weight == 0:
            return {q: fuse(r, np.zeros(len(r)), 0.0) for q, r in rankings.items()}
        docs = store.document_texts({d for r in rankings.values() for d, _ in r})
        scores = score_rankings(self.model, rankings, query_text, docs, progress)
        return {q: fuse(r, scores[q], self.weight) for q, r in rankings.items()}


def training_set(model: Any, config: TrainConfig, data: TrainingData) -> tuple[Any, Any, TrainConfig]:
    """The dataset, the loss and the config the trainer runs with. "lambda" trains on one list per
    query (LambdaLoss); its batch holds batch_size // (mean list length) queries, so a step sees
    about as many pairs, and the run about as many steps and validations, as with "bce"."""
    from dataclasses import replace

    from datasets import Dataset
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, LambdaLoss

    if config.cross_encoder_loss != "lambda":
        return Dataset.from_dict(cross_encoder_rows(data)), BinaryCrossEntropyLoss(model), config
    lists = cross_encoder_lists(data, seed=config.seed)
    if not lists["query"]:
        raise InputError("the lambda loss expects train queries with documents of at least two grades, but got none; "
                         "grade or flag some negatives, or use cross_encoder_loss 'bce'.")
    mean = sum(len(d) for d in lists["docs"]) / len(lists["docs"])
    queries = max(1, round(config.batch_size / mean))
    return Dataset.from_dict(lists), LambdaLoss(model, mini_batch_size=config.batch_size), replace(config, batch_size=queries)


def train_cross_encoder(inputs: TrainingInputs) -> dict[str, Any]:
    """Train on the graded pairs; early stopping and the fusion weight look at each validation
    query's `inputs.first_stage` ranking (the hybrid a run ships under it), or the retriever's (`inputs.base`) alone."""
    import torch
    from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from transformers import EarlyStoppingCallback

    from core.search.models import resolve_model

    store, config, data, retriever, reporter = inputs.store, inputs.config, inputs.data, inputs.base, inputs.reporter
    checkpoints, first_stage, model_dir = inputs.checkpoint_dir, inputs.first_stage, inputs.model_dir
    with torch.random.fork_rng(devices=[]):  # a seeded fresh head, without reseeding the app's global RNG
        torch.manual_seed(config.seed)
        model = CrossEncoder(resolve_model(config.base_model), num_labels=1, max_length=256)
    warm: dict[str, Any] = {}
    if config.warm_start:
        from core.training.warm_start import warm_start

        warm = warm_start(model, store, retriever, config, checkpoints, reporter)
        reporter.phase("training")
    if config.pretrain:
        from core.training.warm_start import pretrain

        warm |= pretrain(model, store, retriever, config, checkpoints, reporter, sorted(data.validation))
        reporter.phase("training")
    train_dataset, loss, trained = training_set(model, config, data)
    if first_stage is not None:
        val_rankings = {q: list(first_stage[q])[: config.rerank_depth] for q in sorted(first_stage)}
    else:
        val_rankings = metrics.rank_with_model(store, retriever, sorted(data.validation), config.rerank_depth) if data.validation else {}
    evaluator, key = None, ""
    if val_rankings:
        relevant = data.validation_relevant()
        samples = [
            {"query": data.query_text[q], "positive": [data.doc_text[d] for d in relevant[q]], "documents": [data.doc_text[d] for d, _ in val_rankings[q]]}
            for q in sorted(val_rankings)
        ]
        samples = [s for s in samples if s["positive"]]
        if samples:
            evaluator = CrossEncoderRerankingEvaluator(samples, at_k=10, always_rerank_positives=False, name=VALIDATION_NAME, write_csv=False)
            key = f"eval_{VALIDATION_NAME}_ndcg@10"
    args = CrossEncoderTrainingArguments(**trainer_arguments(trained, checkpoints, len(train_dataset), key))
    callbacks = [ProgressCallback(reporter, key)] + ([EarlyStoppingCallback(early_stopping_patience=config.patience)] if evaluator else [])
    trainer = without_printing(CrossEncoderTrainer(model=model, args=args, train_dataset=train_dataset, loss=loss, evaluator=evaluator,
                                                   callbacks=callbacks))
    output = trainer.train()
    reporter.raise_if_cancelled()

    choice: dict[str, Any] = {"weight": DEFAULT_WEIGHT, "grid": {}}
    if val_rankings:
        choice = choose_fusion(model, val_rankings, data, reporter)
    weight, grid = choice["weight"], choice["grid"]
    if reporter.primary:
        model.save(str(model_dir))
        (model_dir / RERANKER_FILE).write_text(json.dumps({"retriever": retriever.path, "weight": weight, "depth": config.rerank_depth, "validation_ndcg@10": grid}))
    best = trainer.state.best_metric
    return {"steps": trainer.state.global_step, "train_loss": round(float(output.training_loss), 5), "rows": len(train_dataset),
            "fusion_weight": weight, "best_validation_ndcg@10": None if best is None else round(float(best), 5),
            "retriever_validation_ndcg@10": grid.get("0.0"), "fused_validation_ndcg@10": grid.get(str(weight)),
            # weight 1: the re-ranker's order alone, on the same metric as the retriever's. best_validation_ndcg@10 is the
            # trainer's early-stopping figure (sentence-transformers' evaluator: binary, normalised within the top k), not comparable.
            "reranker_validation_ndcg@10": grid.get("1.0"),
            "best_weight": choice.get("best_weight"), "best_validation_ndcg@10_fused": grid.get(str(choice.get("best_weight"))),
            "fusion_p_value": choice.get("p_value"), "loss": config.cross_encoder_loss, "precision": "bf16" if trainer.args.bf16 else "fp32",
            "stopped": reporter.stop_reason or "completed"} | warm


def fusion_note(info: Mapping[str, Any]) -> str:
    """Why a re-ranker run's 'after' looks the way it does, in words for the Train page and the CLI:
    the cross-encoder fused on its own, then the re-ranking stage the run ships (training.ltr)."""
    note = _fusion_note(info)
    if info.get("ltr") is None:
        return note
    from core.training.ltr import note as stage_note

    return note.replace(" and held-out results equal the retriever's", "") + " " + stage_note(info["ltr"])


def _fusion_note(info: Mapping[str, Any]) -> str:
    weight, retriever, fused = info.get("fusion_weight"), info.get("retriever_validation_ndcg@10"), info.get("fused_validation_ndcg@10")
    if weight is None or retriever is None:
        return f"Fusion weight {DEFAULT_WEIGHT} (no validation queries to choose it on)."
    if weight == 0:
        best, best_ndcg, p_value = info.get("best_weight"), info.get("best_validation_ndcg@10_fused"), info.get("fusion_p_value")
        why = (f"its best fusion (weight {best}, nDCG@10 {retriever:.3f} → {best_ndcg:.3f}) was not a significant gain "
               f"(p = {p_value:.2f})" if best and best_ndcg is not None and p_value is not None
               else f"nothing beat the retriever alone (nDCG@10 {retriever:.3f})")
        alone = info.get("reranker_validation_ndcg@10")
        if alone is not None:
            why += f"; the re-ranker alone scored {alone:.3f}"
        return (f"The re-ranker did not clearly beat the retriever on validation queries: {why}. So its fusion weight is 0 "
                "and held-out results equal the retriever's. A re-ranker trained from the MiniLM backbone needs more graded "
                "pairs, or start it from a pretrained re-ranker (base model setting).")
    return (f"Fusion weight {weight} chosen on validation queries: nDCG@10 {retriever:.3f} (retriever alone) → {fused:.3f} (fused), "
            f"p = {info.get('fusion_p_value', 0):.3f}.")
