"""Bi-encoder fine-tuning with SentenceTransformerTrainer and MultipleNegativesRankingLoss.

Rows are (anchor, positive, negative_1..n): the hard negatives are what makes it learn.
Early stopping watches nDCG@10 on validation queries carved from the train split, and the
best checkpoint is the one saved.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from core.training.callbacks import VALIDATION_NAME, ProgressCallback, trainer_arguments, without_printing
from core.training.data import TrainingData, bi_encoder_rows
from core.training.trainers import TrainingInputs

FIT_PERCENTILE = 95  # training reads this share of texts whole; the longest 5% are cut
MIN_SEQ_LENGTH = 32
VALIDATION_CORPUS = 500  # docs scored per validation pass (judged ones first), so evaluation stays quick on CPU


def validation_corpus(data: TrainingData, seed: int, size: int = VALIDATION_CORPUS) -> dict[str, str]:
    """The validation queries' judged documents, filled up with a seeded sample of the rest."""
    judged = {d for docs in data.validation.values() for d in docs if d in data.doc_text}
    rest = sorted(set(data.doc_text) - judged)
    extra = random.Random(seed).sample(rest, max(0, min(len(rest), size - len(judged))))
    return {d: data.doc_text[d] for d in sorted(judged) + extra}


def fitted_length(tokenizer: Any, texts: list[str], limit: int) -> int:
    """The sequence length that holds FIT_PERCENTILE of `texts` whole, within the model's `limit`:
    batches pad to their longest text, so one long document makes every text in it as slow."""
    if not texts:
        return limit
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]
    fitted = int(np.percentile(lengths, FIT_PERCENTILE))
    return max(MIN_SEQ_LENGTH, min(limit, -(-fitted // 8) * 8))  # a multiple of 8


def train_bi_encoder(inputs: TrainingInputs) -> dict[str, Any]:
    """Fine-tune `inputs.base`, keep the best checkpoint by validation nDCG@10, save to `inputs.model_dir`."""
    config, data, reporter = inputs.config, inputs.data, inputs.reporter
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.training_args import BatchSamplers
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import EarlyStoppingCallback

    model = SentenceTransformer(inputs.base.path)
    rows = bi_encoder_rows(data, config.negatives_per_query, config.seed)
    saved_length = model.max_seq_length
    model.max_seq_length = fitted_length(model.tokenizer, sorted({t for column in rows.values() for t in column}), saved_length)
    train_dataset = Dataset.from_dict(rows)
    texts_per_row = 2 + config.negatives_per_query
    # Without duplicates in a batch, a repeated positive is not an in-batch false negative; a tiny
    # corpus (27 categories) cannot fill such batches, so it keeps the plain sampler.
    sampler = BatchSamplers.NO_DUPLICATES if len(data.doc_text) >= 4 * config.batch_size * texts_per_row else BatchSamplers.BATCH_SAMPLER
    evaluator = None
    key = ""
    if data.validation:
        relevant = {q: set(docs) for q, docs in data.validation_relevant().items()}
        evaluator = InformationRetrievalEvaluator(
            queries={q: data.query_text[q] for q in data.validation}, corpus=validation_corpus(data, config.seed),
            relevant_docs=relevant, name=VALIDATION_NAME, ndcg_at_k=[10], mrr_at_k=[10], accuracy_at_k=[5], precision_recall_at_k=[5],
            map_at_k=[10], write_csv=False, batch_size=64,
        )
        key = f"eval_{VALIDATION_NAME}_cosine_ndcg@10"
    args = SentenceTransformerTrainingArguments(
        **trainer_arguments(config, inputs.checkpoint_dir, len(train_dataset), key), batch_sampler=sampler, dataloader_drop_last=False
    )
    callbacks = [ProgressCallback(reporter, key)]
    if evaluator:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
    trainer = without_printing(SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_dataset, loss=MultipleNegativesRankingLoss(model),
        evaluator=evaluator, callbacks=callbacks,
    ))
    output = trainer.train()
    # Every rank has loaded the best checkpoint before rank 0 goes on to delete the checkpoints (data-parallel runs).
    trainer.accelerator.wait_for_everyone()
    reporter.raise_if_cancelled()
    model_length = model.max_seq_length
    model.max_seq_length = saved_length  # the saved model reads whole documents again at search time
    if reporter.primary:
        model.save(str(inputs.model_dir))
    best = trainer.state.best_metric
    return {
        "steps": trainer.state.global_step, "train_loss": round(float(output.training_loss), 5), "rows": len(train_dataset),
        "sampler": sampler.value, "processes": trainer.args.world_size, "precision": "bf16" if trainer.args.bf16 else "fp32", "max_seq_length": model_length, "best_validation_ndcg@10": None if best is None else round(float(best), 5), "stopped": reporter.stop_reason or "completed",
    }
