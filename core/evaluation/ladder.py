"""The ladder: every pipeline a team could ship, scored on the same eval queries.

A run's "after" means little alone: a BM25 + dense hybrid that needs no labels often gets most
of what fine-tuning reports. So every evaluation scores each rung (BM25, the base model dense,
the base model fused with BM25, the fine-tuned model dense and fused, a re-ranker on top), each
with its 95% interval and its paired p-value against the rung below and against the best rung
that needs no training. Fusion weights are chosen on validation queries, never on eval ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from core.evaluation import metrics, stats
from core.labeling.labels import Qrels
from core.progress import Progress
from core.search.fusion import WEIGHTS, Candidates, DenseIndex, Ranking, bm25_hits, bm25_rankings, fused_rankings
from core.search.models import Embedder
from core.storage.store import Store

BM25, DENSE, HYBRID, TUNED_DENSE, TUNED_HYBRID, RERANK = "bm25", "dense", "hybrid", "tuned-dense", "tuned-hybrid", "rerank"
ORDER = (BM25, DENSE, HYBRID, TUNED_DENSE, TUNED_HYBRID, RERANK)  # bottom to top
NO_TRAINING = (BM25, DENSE, HYBRID)
LABELS = {BM25: "BM25 full-text search", DENSE: "the base model, dense", HYBRID: "the base model + BM25", TUNED_DENSE: "the fine-tuned model, dense",
          TUNED_HYBRID: "the fine-tuned model + BM25", RERANK: "a re-ranker over the base model + BM25"}  # read mid-sentence
STAGE_OF = {DENSE: "before"}  # the rung stored under another stage name (the base model dense is every run's "before")
DEFAULT_WEIGHT = 0.5  # with no validation query to choose on


def stage_name(rung: str) -> str:
    return STAGE_OF.get(rung, rung)


def choose_weight(candidates: Mapping[str, Candidates], qrels: Qrels, relevant_grade: int,
                  metric: str = metrics.VALIDATION_METRIC) -> dict[str, Any]:
    """The dense weight of the grid with the best mean `metric` on these (validation) queries.

    Ties go to the weight nearest an even mix: on a few dozen queries many weights tie, and an even
    mix is the choice that generalises best across BEIR sets when the data cannot tell."""
    judged = [q for q in metrics.judged_queries(qrels, relevant_grade) if q in candidates]
    if not judged:
        return {"weight": DEFAULT_WEIGHT, "queries": 0, "grid": {}, "why": "no validation query with a relevant document: the default"}
    grid = {}
    for weight in WEIGHTS:
        means, _ = metrics.compute({q: qrels[q] for q in judged}, fused_rankings({q: candidates[q] for q in judged}, weight, metrics.DEPTH),
                                   relevant_grade)
        grid[weight] = means[metric]
    best = max(WEIGHTS, key=lambda w: (round(grid[w], 9), -abs(w - DEFAULT_WEIGHT), -w))
    return {"weight": best, "queries": len(judged), "grid": {str(w): round(v, 5) for w, v in grid.items()},
            "why": f"best validation {metric} over {len(judged)} queries"}


def trained_wins(trained: Mapping[str, Any], untrained: Mapping[str, Any]) -> bool:
    """Whether the fine-tuned model's fusion beat the base model's on the validation queries (two
    `choose_weight` results). With no validation query to tell, the trained one ships, as it always did."""
    if not trained.get("grid") or not untrained.get("grid"):
        return True
    return trained["grid"][str(trained["weight"])] > untrained["grid"][str(untrained["weight"])]


@dataclass(frozen=True)
class Rung:
    """One pipeline's scores on the eval queries."""

    name: str
    label: str
    trained: bool
    value: float  # mean of the metric
    ci_low: float
    ci_high: float
    p_vs_below: float | None  # paired, against the rung listed before it
    p_vs_best_untrained: float | None
    delta_vs_best_untrained: float | None
    summary: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(qrels: Qrels, rungs: Mapping[str, Mapping[str, Ranking]], relevant_grade: int,
          metric: str = metrics.VALIDATION_METRIC, seed: int = 0) -> list[Rung]:
    """Each rung's mean, 95% interval and paired p-values on `metric`, in ladder order, with its summary metrics."""
    computed = {name: metrics.compute(qrels, rankings, relevant_grade) for name, rankings in rungs.items()}
    scored = from_run({stage_name(n): per_query for n, (_, per_query) in computed.items()}, metric, seed)
    return [replace(r, value=round(float(computed[r.name][0][metric]), 5), summary=metrics.summary(computed[r.name][0])) for r in scored]


def best_untrained(rungs: Sequence[Rung]) -> Rung | None:
    """The strongest rung that needs no labels (ties: the simplest)."""
    untrained = [r for r in rungs if not r.trained]
    return max(untrained, key=lambda r: (r.value, -ORDER.index(r.name))) if untrained else None


def sentence(shipped: Rung, rungs: Sequence[Rung], metric: str = metrics.VALIDATION_METRIC) -> str:
    """The headline a PM reads first: what the labels bought over the best pipeline that needs none."""
    base = best_untrained(rungs)
    if base is None:
        return ""
    if shipped.name == base.name or not shipped.trained:
        return (f"The shipped pipeline is {base.label} ({metric} {base.value:.3f}), which needs no labels: "
                "fine-tuning did not beat it on validation queries.")
    delta, p = shipped.value - base.value, shipped.p_vs_best_untrained
    if p is not None and p < stats.ALPHA and delta > 0:
        call = f"a real gain (p = {p:.3g})"
    elif p is not None and p < stats.ALPHA:
        call = f"a real loss (p = {p:.3g}): ship the no-training pipeline instead"
    else:
        call = f"within noise (p = {p:.2g})" if p is not None else "too few queries to tell"
    return (f"Fine-tuning added {delta:+.3f} {metric} over {base.label}, a pipeline that needs no labels "
            f"({base.value:.3f} → {shipped.value:.3f}): {call}.")


class FirstStage:
    """One dense model and BM25 over the eval and validation queries: BM25 hits (shareable
    between models), dense candidates, and the hybrid weight chosen on the validation queries."""

    def __init__(self, store: Store, embedder: Embedder, eval_ids: Sequence[str], validation: Qrels, texts: Mapping[str, str],
                 relevant_grade: int, *, corpus=None, lexical: Mapping[str, Ranking] | None = None, progress: Progress | None = None):
        overlap = set(eval_ids) & set(validation)
        if overlap:
            raise ValueError(f"validation queries must never be eval queries, but {len(overlap)} are (e.g. {sorted(overlap)[0]})")
        self.eval_ids, self.validation = list(eval_ids), validation
        wanted = {q: texts[q] for q in [*self.eval_ids, *validation] if q in texts}
        self.lexical = dict(lexical) if lexical is not None else bm25_hits(store, wanted)
        self.candidates = DenseIndex(store, embedder, progress, corpus).candidates(wanted, self.lexical)
        self.choice = choose_weight({q: self.candidates[q] for q in validation if q in self.candidates}, validation, relevant_grade)

    def bm25(self, depth: int = metrics.DEPTH) -> dict[str, Ranking]:
        return bm25_rankings(self.lexical, self.eval_ids, depth)

    def hybrid(self, weight: float, depth: int = metrics.DEPTH) -> dict[str, Ranking]:
        """The eval queries' fused rankings (weight 1: dense alone)."""
        return fused_rankings({q: self.candidates[q] for q in self.eval_ids if q in self.candidates}, weight, depth)

    def validation_first_stage(self, depth: int) -> dict[str, Ranking]:
        """The hybrid's ranking of each validation query: what a re-ranker on top of it sees."""
        return fused_rankings({q: self.candidates[q] for q in self.validation if q in self.candidates}, self.choice["weight"], depth)

    def untrained(self) -> dict[str, dict[str, Ranking]]:
        """The rungs that need no training: BM25, the model dense, and the two fused."""
        return {BM25: self.bm25(), DENSE: self.hybrid(1.0), HYBRID: self.hybrid(self.choice["weight"])}


def from_run(per_query_values: Mapping[str, Mapping[str, Mapping[str, float]]], metric: str = metrics.VALIDATION_METRIC,
             seed: int = 0) -> list[Rung]:
    """The ladder of a stored run from its per-query values ({stage: {query: {metric: value}}}):
    the same figures `score` gave when the run ended, for the Results page and the report."""
    present = [n for n in ORDER if stage_name(n) in per_query_values]
    if not present:
        return []
    queries = sorted(set.intersection(*(set(per_query_values[stage_name(n)]) for n in present)))
    values = {n: np.array([per_query_values[stage_name(n)][q].get(metric, 0.0) for q in queries]) for n in present}
    untrained = [n for n in NO_TRAINING if n in values]
    best = max(untrained, key=lambda n: (values[n].mean(), -ORDER.index(n))) if untrained else None
    out, below = [], None
    for name in present:
        low, high = stats.bootstrap_ci(np.zeros(len(queries)), values[name], seed=seed) if queries else (0.0, 0.0)
        versus = best if best and name != best else None
        out.append(Rung(
            name=name, label=LABELS[name], trained=name not in NO_TRAINING, value=round(float(values[name].mean()), 5) if queries else 0.0,
            ci_low=round(low, 5), ci_high=round(high, 5),
            p_vs_below=round(stats.paired_p_value(values[below], values[name], seed=seed), 4) if below else None,
            p_vs_best_untrained=round(stats.paired_p_value(values[versus], values[name], seed=seed), 4) if versus else None,
            delta_vs_best_untrained=round(float(values[name].mean() - values[best].mean()), 5) if best else None, summary={}))
        below = name
    return out
