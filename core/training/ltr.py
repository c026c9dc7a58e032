"""Learning to rank on top of the fused retriever: a re-ranking stage whose zero state is its first stage.

A cross-encoder from the MiniLM backbone with a fresh head and a few hundred labels scores well
below the retriever (demo validation nDCG@10 0.37–0.42 against 0.675), so fusing it ended at
weight 0 on nearly every set. What works from few labels is a model that starts from the
retriever's own score and learns only a correction: LightGBM's lambdarank with `init_score` =
the first stage's fused score and a few features (the dense cosine, BM25, query-term overlap,
document length, the first-stage rank and, as one feature among others, the cross-encoder's
logit). With zero trees it *is* the first stage, order for order. Trees are grown on the graded
train queries with early stopping on the validation queries, and the stage is kept only when it
beats its first stage there (one-sided paired randomization test, p < stats.ALPHA); the variant
with the cross-encoder's feature replaces the one without only when it beats it the same way.

The cross-encoder was trained on the train queries, so its logits there are in-sample and look
better than they are; the validation queries, which neither model trained on, decide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.evaluation import metrics, stats
from core.labeling.labels import Qrels
from core.progress import Progress
from core.search.fusion import Candidates, DenseIndex, Ranking, bm25_hits, fused_rankings, minmax
from core.search.models import Embedder
from core.storage.store import Store
from core.training.data import TrainingData
from core.training.jobs import Reporter

LTR_FILE = "ltr.txt"  # LightGBM's text model, in the run's folder
BASE_FEATURES = ("fused", "rank", "dense", "dense_norm", "bm25", "bm25_norm", "overlap", "doc_length", "query_terms")
CROSS_ENCODER = "cross_encoder"
LEXICAL, WITH_CROSS_ENCODER = "ltr", "ltr+cross-encoder"  # the variants, simplest first
MAX_TREES = 300
PATIENCE = 30  # validation rounds without a better nDCG@10 before growing stops
PARAMS = {  # small trees, slow learning: a few hundred labelled queries, a correction to a strong score
    "objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 20,
    "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1,
}


@dataclass
class QueryList:
    """One query's first-stage top list, in its order, with every feature of every document."""

    ranking: Ranking  # (doc id, fused first-stage score), best first
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        return np.column_stack([self.columns[n] for n in names]) if self.ranking else np.zeros((0, len(names)))

    @property
    def init(self) -> np.ndarray:
        return np.array([s for _, s in self.ranking], dtype=np.float64)


def _analyzer():
    """Lower-cased word tokens without English stop words (scikit-learn's, as its vectorizers use)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words="english").build_analyzer()


def build_lists(first: Mapping[str, Ranking], candidates: Mapping[str, Candidates], query_text: Mapping[str, str],
                doc_text: Mapping[str, str], cross_encoder: Mapping[str, np.ndarray] | None = None) -> dict[str, QueryList]:
    """Features of each query's first-stage list. Every feature is of one (query, document) or one
    query's list: nothing is computed across queries, so no query's features see another's."""
    analyze, tokens = _analyzer(), {}
    out = {}
    for q, ranking in first.items():
        c = candidates[q]
        at = {d: i for i, d in enumerate(c.doc_ids)}
        rows = [at[d] for d, _ in ranking]
        dense, bm25 = c.dense[rows], c.bm25[rows]
        terms = set(analyze(query_text[q]))
        for d, _ in ranking:
            if d not in tokens:
                tokens[d] = analyze(doc_text.get(d, ""))
        columns = {
            "fused": np.array([s for _, s in ranking], dtype=np.float64),
            "rank": np.arange(1, len(ranking) + 1, dtype=np.float64),
            "dense": dense, "dense_norm": minmax(dense),
            "bm25": bm25, "bm25_norm": bm25 / bm25.max() if len(bm25) and bm25.max() > 0 else np.zeros(len(bm25)),
            "overlap": np.array([len(terms & set(tokens[d])) / len(terms) if terms else 0.0 for d, _ in ranking]),
            "doc_length": np.array([math.log1p(len(tokens[d])) for d, _ in ranking]),
            "query_terms": np.full(len(ranking), float(len(terms))),
        }
        if cross_encoder is not None:
            columns[CROSS_ENCODER] = np.asarray(cross_encoder[q], dtype=np.float64)
        out[q] = QueryList(list(ranking), columns)
    return out


@dataclass
class LtrStage:
    """A LightGBM booster's correction added to the first stage's fused score; `trees` 0 is the first stage itself."""

    booster: Any = None  # lightgbm.Booster
    trees: int = 0
    features: tuple[str, ...] = BASE_FEATURES

    @property
    def uses_cross_encoder(self) -> bool:
        return self.trees > 0 and CROSS_ENCODER in self.features

    def scores(self, item: QueryList) -> np.ndarray:
        """init + correction. With no tree nothing is predicted (LightGBM reads num_iteration 0 as "all")."""
        if self.trees == 0 or self.booster is None or not item.ranking:
            return item.init
        return item.init + self.booster.predict(item.matrix(self.features), num_iteration=self.trees)

    def rerank(self, lists: Mapping[str, QueryList]) -> dict[str, Ranking]:
        """Each list by its score, ties in first-stage order (so zero trees give the first stage's order exactly)."""
        out = {}
        for q, item in lists.items():
            scores = self.scores(item)
            order = sorted(range(len(item.ranking)), key=lambda i: (-scores[i], i))
            out[q] = [(item.ranking[i][0], float(scores[i])) for i in order]
        return out

    def rerank_first(self, store: Store, first: Mapping[str, Ranking], candidates: Mapping[str, Candidates],
                     query_text: Mapping[str, str], depth: int, cross_encoder: Any = None, progress: Progress | None = None) -> dict[str, Ranking]:
        """The top `depth` of each first-stage ranking re-ranked, the rest below in first-stage order:
        what a run measures on eval queries and what `Pipeline.search` serves. `cross_encoder`: the
        model whose logits are the feature, needed only when the stage uses it."""
        top = {q: list(r)[:depth] for q, r in first.items()}
        if self.trees == 0:
            return {q: list(r) for q, r in first.items()}
        docs = store.document_texts({d for r in top.values() for d, _ in r})
        logits = None
        if self.uses_cross_encoder:
            from core.training.cross_encoder import score_rankings

            logits = score_rankings(cross_encoder, top, query_text, docs, progress)
        reranked = self.rerank(build_lists(top, candidates, query_text, docs, logits))
        return {q: reranked[q] + list(first[q])[depth:] for q in first}

    def save(self, path: Path) -> Path:
        self.booster.save_model(str(path), num_iteration=self.trees)
        return path

    @classmethod
    def load(cls, path: str | Path) -> LtrStage:
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
        return cls(booster, booster.current_iteration(), tuple(booster.feature_name()))


def _arrays(lists: Mapping[str, QueryList], qrels: Qrels, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
    """Features, integer grades (unjudged: 0), group sizes and init scores of the queries with a graded document in their list."""
    kept = [q for q in sorted(lists) if any(qrels.get(q, {}).get(d, 0) > 0 for d, _ in lists[q].ranking)]
    if not kept:
        return np.zeros((0, len(names))), np.zeros(0, dtype=int), [], np.zeros(0)
    x = np.vstack([lists[q].matrix(names) for q in kept])
    y = np.concatenate([[max(0, int(round(qrels[q].get(d, 0)))) for d, _ in lists[q].ranking] for q in kept]).astype(int)
    return x, y, [len(lists[q].ranking) for q in kept], np.concatenate([lists[q].init for q in kept])


def fit_booster(train: Mapping[str, QueryList], train_qrels: Qrels, validation: Mapping[str, QueryList], validation_qrels: Qrels,
                names: Sequence[str], seed: int = 0) -> LtrStage:
    """Lambdarank trees grown from the fused score on `train`, stopped on `validation`'s nDCG@10 (gains = grades, as in the eval)."""
    import lightgbm as lgb

    x, y, groups, init = _arrays(train, train_qrels, names)
    xv, yv, groups_v, init_v = _arrays(validation, validation_qrels, names)
    if not groups or not groups_v:
        return LtrStage(features=tuple(names))
    params = PARAMS | {"seed": seed, "metric": "ndcg", "eval_at": [10], "label_gain": list(range(max(int(y.max()), int(yv.max())) + 1))}
    train_set = lgb.Dataset(x, y, group=groups, init_score=init, feature_name=list(names), free_raw_data=False)
    validation_set = lgb.Dataset(xv, yv, group=groups_v, init_score=init_v, reference=train_set)
    booster = lgb.train(params, train_set, num_boost_round=MAX_TREES, valid_sets=[validation_set],
                        callbacks=[lgb.early_stopping(PATIENCE, first_metric_only=True, verbose=False)])
    return LtrStage(booster, int(booster.best_iteration or booster.current_iteration()), tuple(names))


def one_sided_p(before: Mapping[str, Mapping[str, float]], after: Mapping[str, Mapping[str, float]],
                metric: str = metrics.VALIDATION_METRIC) -> tuple[float, float]:
    """Mean gain of `after` over `before` on the same queries, and the one-sided paired p of a gain (1 when there is none)."""
    queries = sorted(before)
    b, a = np.array([before[q][metric] for q in queries]), np.array([after[q][metric] for q in queries])
    gain = float(a.mean() - b.mean()) if queries else 0.0
    return gain, (stats.paired_p_value(b, a) / 2 if gain > 0 else 1.0)


def choose(first: Mapping[str, Ranking], variants: Mapping[str, tuple[LtrStage, Mapping[str, QueryList]]], qrels: Qrels,
           relevant_grade: int) -> tuple[LtrStage, dict[str, Any]]:
    """The variant to keep, judged on validation queries: one that beats the first stage there
    (one-sided paired test, p < ALPHA), replaced by a later (richer) one only when that beats it
    the same way; none of them: the zero-tree stage, i.e. the first stage."""
    base_mean, base = metrics.compute(qrels, first, relevant_grade)
    report: dict[str, Any] = {"first_stage": round(base_mean[metrics.VALIDATION_METRIC], 5), "queries": len(base), "variants": {}}
    kept, kept_per_query, kept_name = None, base, None
    for name, (stage, lists) in variants.items():
        mean, per_query = metrics.compute(qrels, stage.rerank(lists), relevant_grade)
        gain, p = one_sided_p(base, per_query)
        row = {"trees": stage.trees, "features": list(stage.features), metrics.VALIDATION_METRIC: round(mean[metrics.VALIDATION_METRIC], 5),
               "gain": round(gain, 5), "p": round(p, 4)}
        if stage.trees and base and p < stats.ALPHA:
            if kept is None or one_sided_p(kept_per_query, per_query)[1] < stats.ALPHA:
                kept, kept_per_query, kept_name = stage, per_query, name
        report["variants"][name] = row
    report["kept"] = kept_name
    report["why"] = (f"{kept_name} beat the first stage on {len(base)} validation queries (one-sided paired p < {stats.ALPHA})" if kept_name
                     else f"no variant beat the first stage on {len(base)} validation queries (one-sided paired p < {stats.ALPHA}): "
                          "the stage is the first stage")
    return kept or LtrStage(), report


def note(report: Mapping[str, Any]) -> str:
    """What the re-ranking stage of a run did, in words (the Train page, the CLI)."""
    variants, kept = report.get("variants", {}), report.get("kept")
    if kept:
        v = variants[kept]
        return (f"The run ships the re-ranking stage {kept} (learning to rank from the fused retriever, {v['trees']} trees): validation "
                f"nDCG@10 {report['first_stage']:.3f} → {v['ndcg@10']:.3f} (one-sided p = {v['p']:.3g}).")
    if not variants:
        return f"No re-ranking stage: {report.get('why', '')}."
    tried = "; ".join(f"{name} {v['ndcg@10']:.3f} (p = {v['p']:.2g})" for name, v in variants.items())
    return (f"No re-ranking stage beat the fused retriever on validation queries (nDCG@10 {report['first_stage']:.3f}; {tried}), "
            "so the run ships the fused retriever.")


def train_qrels(grades: Mapping[str, Mapping[str, int]], positives: Mapping[str, Sequence[str]], top: Mapping[str, int]) -> Qrels:
    """The train queries' labels: their grades, and each positive that was not graded (a synthetic
    query's source document) at the top of its query's scale."""
    return {q: dict(grades.get(q, {})) | {d: top[q] for d in docs if d not in grades.get(q, {})} for q, docs in positives.items()}


def first_stage(store: Store, embedder: Embedder, texts: Mapping[str, str], weight: float, depth: int,
                corpus: tuple[list[str], np.ndarray] | None = None) -> tuple[dict[str, Ranking], dict[str, Candidates]]:
    """The fused first stage (BM25 and dense at `weight`) for queries given as text: their top `depth` and all their candidates."""
    candidates = DenseIndex(store, embedder, corpus=corpus).candidates(texts, bm25_hits(store, texts)) if texts else {}
    return fused_rankings(candidates, weight, depth), candidates


def fit_for_run(store: Store, data: TrainingData, embedder: Embedder, corpus: tuple[list[str], np.ndarray] | None, weight: float, depth: int,
                validation_first: Mapping[str, Ranking], validation_candidates: Mapping[str, Candidates], cross_encoder: Any = None,
                seed: int = 0, reporter: Reporter | None = None) -> tuple[LtrStage, dict[str, Any]]:
    """A run's re-ranking stage: the variants fitted on the train queries of `data` (a TrainingData)
    over the same fused first stage (`weight`, top `depth`) that the validation queries'
    `validation_first` comes from, and the one `choose` keeps. Eval queries never enter here.
    `cross_encoder` (a CrossEncoder) adds the variant with its logit as a feature."""
    from core.labeling.labels import FLYWHEEL

    texts = {q: data.query_text[q] for q in sorted(data.positives)}
    if not validation_first or not texts:  # nothing to stop on and to judge by: the first stage, and no time spent
        return LtrStage(), {"kept": None, "variants": {}, "queries": len(validation_first), "train_queries": len(texts), "depth": depth,
                            "why": "no validation or no train queries: the stage is the first stage"}
    if reporter:
        reporter.phase("re-ranking stage: first stage of the train queries")
    train_first, train_candidates = first_stage(store, embedder, texts, weight, depth, corpus)
    labels = train_qrels(data.grades, data.positives, {q: data.scales.get(q, FLYWHEEL).top for q in texts})
    validation = {q: data.validation[q] for q in validation_first}
    train_lists = build_lists(train_first, train_candidates, texts, data.doc_text)
    validation_lists = build_lists(validation_first, validation_candidates, data.query_text, data.doc_text)
    if reporter:
        reporter.phase("re-ranking stage: growing trees")
    variants = {LEXICAL: (fit_booster(train_lists, labels, validation_lists, validation, BASE_FEATURES, seed), validation_lists)}
    if cross_encoder is not None:
        from core.training.cross_encoder import score_rankings

        both = {**{("t", q): r for q, r in train_first.items()}, **{("v", q): r for q, r in validation_first.items()}}
        text_of = {("t", q): texts[q] for q in train_first} | {("v", q): data.query_text[q] for q in validation_first}
        logits = score_rankings(cross_encoder, both, text_of, data.doc_text,
                                reporter.progress("re-ranking stage: cross-encoder logits of train and validation lists", "pairs") if reporter else None)
        train_lists = build_lists(train_first, train_candidates, texts, data.doc_text, {q: logits[("t", q)] for q in train_first})
        validation_lists = build_lists(validation_first, validation_candidates, data.query_text, data.doc_text,
                                       {q: logits[("v", q)] for q in validation_first})
        names = (*BASE_FEATURES, CROSS_ENCODER)
        variants[WITH_CROSS_ENCODER] = (fit_booster(train_lists, labels, validation_lists, validation, names, seed), validation_lists)
    stage, report = choose(validation_first, variants, validation, data.relevant_grade)
    return stage, report | {"train_queries": len(texts), "depth": depth}
