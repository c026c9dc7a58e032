"""Each variant of the re-ranking stage on the eval queries, kept or not: what the validation gate saw
against what it would have shipped. Reads a workspace a bench left (its default split and seed).

    python bench/ltr_pieces.py WORKSPACE [RUN_FOLDER]

RUN_FOLDER (models/<run id>) adds the variant with that run's cross-encoder logit as a feature.
"""

from __future__ import annotations

import json
import sys
import time

from common import ROOT  # noqa: F401  (puts the repo on sys.path)

from core.evaluation import ladder, metrics, stats
from core.labeling import labels
from core.search.models import Embedder
from core.search.retrieval import corpus_matrix
from core.settings import Settings
from core.storage.store import Store
from core.training import data as trainingdata
from core.training import ltr
from core.training.config import TrainConfig


def main(workspace: str, run_folder: str | None) -> None:
    started = time.time()
    settings = Settings(workspace=workspace)
    store = Store(settings.db_uri)
    config = TrainConfig(kind="cross-encoder").resolved()
    data = trainingdata.build(store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
                              relevant_grade=settings.relevant_grade)
    base = Embedder()
    corpus = corpus_matrix(store, base)
    eval_ids = metrics.eval_query_ids(store)
    qrels = labels.graded_qrels(store, eval_ids)
    validation = {q: d for q, d in data.validation.items() if q in data.query_text}
    texts = store.query_texts(eval_ids) | {q: data.query_text[q] for q in validation}
    stage = ladder.FirstStage(store, base, eval_ids, validation, texts, settings.relevant_grade, corpus=corpus)
    weight, depth = stage.choice["weight"], config.rerank_depth
    first = stage.hybrid(weight, max(depth, metrics.DEPTH))
    cross_encoder = None
    if run_folder:
        from core.training.cross_encoder import Reranker

        cross_encoder = Reranker(f"{run_folder}/model").model
    # Each variant fitted as a run fits it (ltr.fit_for_run), then scored on the eval queries whether kept or not.
    texts_train = {q: data.query_text[q] for q in sorted(data.positives)}
    train_first, train_candidates = ltr.first_stage(store, base, texts_train, weight, depth, corpus)
    train_labels = ltr.train_qrels(data.grades, data.positives, {q: data.scales[q].top for q in texts_train})
    val_first = stage.validation_first_stage(depth)
    base_mean, base_per_query = metrics.compute(qrels, first, settings.relevant_grade)
    out: dict = {"hybrid": round(base_mean["ndcg@10"], 4)}
    fitted_variants = {}
    variants = [(ltr.LEXICAL, ltr.BASE_FEATURES)] + ([(ltr.WITH_CROSS_ENCODER, (*ltr.BASE_FEATURES, ltr.CROSS_ENCODER))] if cross_encoder else [])
    for name, names in variants:
        logits = None
        if ltr.CROSS_ENCODER in names:
            from core.training.cross_encoder import score_rankings

            logits = {**score_rankings(cross_encoder, train_first, texts_train, data.doc_text),
                      **score_rankings(cross_encoder, val_first, data.query_text, data.doc_text)}
        train_lists = ltr.build_lists(train_first, train_candidates, texts_train, data.doc_text, logits and {q: logits[q] for q in train_first})
        val_lists = ltr.build_lists(val_first, stage.candidates, data.query_text, data.doc_text, logits and {q: logits[q] for q in val_first})
        fitted = ltr.fit_booster(train_lists, train_labels, val_lists, validation, names, config.seed)
        fitted_variants[name] = (fitted, val_lists)
        ranked = fitted.rerank_first(store, first, stage.candidates, texts, depth, cross_encoder)
        mean, per_query = metrics.compute(qrels, ranked, settings.relevant_grade)
        queries = sorted(base_per_query)
        p = stats.paired_p_value([base_per_query[q]["ndcg@10"] for q in queries], [per_query[q]["ndcg@10"] for q in queries])
        out[name] = {"trees": fitted.trees, "eval_ndcg@10": round(mean["ndcg@10"], 4), "p_vs_hybrid": round(p, 4)}
    out["validation"] = ltr.choose(val_first, fitted_variants, validation, settings.relevant_grade)[1]
    out["wall_s"] = round(time.time() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
