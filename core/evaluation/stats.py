"""Is the change real? Paired statistics over eval queries, and the verdict in plain words.

Every eval query is scored before and after on the same qrels, so the comparison is paired:
the confidence interval resamples queries (paired bootstrap) and the significance test flips
the sign of each query's difference (paired randomization test). Both come from scipy.stats
with a seeded generator, so the same data always gives the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from core.errors import InputError

ALPHA = 0.05
MIN_QUERIES = 5  # below this no interval or test means much; the verdict says so
TIE = 1e-9  # per-query differences smaller than this count as "no change"


@dataclass(frozen=True)
class Comparison:
    """Before vs after on one metric over the same queries."""

    metric: str
    n: int
    before: float
    after: float
    delta: float
    rel_change: float | None  # None when `before` is 0
    ci_low: float
    ci_high: float
    p_value: float
    better: int
    worse: int
    same: int
    significant: bool
    verdict: str

    def as_dict(self) -> dict:
        return asdict(self)


def _pair(before, after) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.shape != a.shape or b.ndim != 1:
        raise InputError(
            f"paired statistics expect two equal-length lists of per-query values, but got {b.shape} and {a.shape}; "
            "score the same eval queries before and after"
        )
    if np.isnan(b).any() or np.isnan(a).any():
        raise InputError("paired statistics expect numbers for every query, but got NaN; re-run the evaluation")
    return b, a


def bootstrap_ci(before, after, *, seed: int = 0, level: float = 0.95, n_resamples: int = 5000) -> tuple[float, float]:
    """Paired bootstrap interval of mean(after - before): resample queries, keep each pair together."""
    b, a = _pair(before, after)
    diff = a - b
    if len(diff) < 2 or np.ptp(diff) < TIE:  # a constant difference has no spread to resample
        mean = float(diff.mean()) if len(diff) else 0.0
        return mean, mean
    result = stats.bootstrap(
        (b, a),
        lambda x, y, axis: np.mean(y - x, axis=axis),
        paired=True,
        vectorized=True,
        confidence_level=level,
        n_resamples=n_resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_p_value(before, after, *, seed: int = 0, n_resamples: int = 9999) -> float:
    """Two-sided paired randomization test on the mean difference (exact for small query sets)."""
    b, a = _pair(before, after)
    if len(b) < 2 or np.all(np.abs(a - b) < TIE):
        return 1.0
    result = stats.permutation_test(
        (b, a),
        lambda x, y, axis: np.mean(y - x, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return float(result.pvalue)


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def span_text(ci: tuple[float, float], p: float) -> str:
    return f"95% CI {ci[0]:+.3f} to {ci[1]:+.3f}, p = {p:.3g}"


def _call(better: int, worse: int, ci: tuple[float, float], p: float) -> str:
    """Real, borderline or chance, for this one metric."""
    span = span_text(ci, p)
    if better == worse == 0:
        return "No query changed."
    if p < ALPHA and ci[0] > 0:
        return f"This is a real improvement ({span})."
    if p < ALPHA and ci[1] < 0:
        return f"This is a real regression ({span})."
    if (ci[0] > 0 or ci[1] < 0) != (p < ALPHA):
        return (f"The evidence is borderline ({span}): the interval and the test disagree on whether it is chance; "
                "more eval queries would settle it.")
    return f"The change could be chance ({span}); more eval queries would tell."


def verdict_text(metric: str, n: int, before: float, after: float, delta: float, rel: float | None,
                 ci: tuple[float, float], p: float, counts: tuple[int, int, int], call: str | None = None) -> str:
    """One or two sentences a non-engineer can read aloud in a meeting. `call` replaces the judgement
    of this one metric where the other metrics decide the run's verdict (a trade-off), unless too few queries."""
    better, worse, same = counts
    tally = f"Better on {better} {'query' if better == 1 else 'queries'}, worse on {worse}, no change on {same}."
    rel_txt = f", {rel:+.0%}" if rel is not None else ""
    move = f"{metric} went from {_fmt(before)} to {_fmt(after)} ({delta:+.3f}{rel_txt})."
    if n < MIN_QUERIES:
        return f"{tally} {move} Only {n} eval {'query' if n == 1 else 'queries'}: too few to tell whether this is real; grade more eval queries."
    return f"{tally} {move} {call or _call(better, worse, ci, p)}"


def compare(metric: str, before, after, *, seed: int = 0, before_mean: float | None = None,
            after_mean: float | None = None) -> Comparison:
    """Everything the headline needs; `before_mean`/`after_mean` override the per-query means
    (the stored aggregate metrics), the interval and test always come from the per-query pairs."""
    b, a = _pair(before, after)
    n = len(b)
    diff = a - b
    before_v = float(before_mean) if before_mean is not None else (float(b.mean()) if n else 0.0)
    after_v = float(after_mean) if after_mean is not None else (float(a.mean()) if n else 0.0)
    delta = after_v - before_v
    rel = delta / before_v if before_v else None
    ci = bootstrap_ci(b, a, seed=seed) if n else (0.0, 0.0)
    p = paired_p_value(b, a, seed=seed) if n else 1.0
    counts = (int((diff > TIE).sum()), int((diff < -TIE).sum()), int((np.abs(diff) <= TIE).sum()))
    significant = n >= MIN_QUERIES and p < ALPHA and (ci[0] > 0 or ci[1] < 0)
    return Comparison(
        metric=metric, n=n, before=before_v, after=after_v, delta=delta, rel_change=rel, ci_low=ci[0], ci_high=ci[1],
        p_value=p, better=counts[0], worse=counts[1], same=counts[2], significant=significant,
        verdict=verdict_text(metric, n, before_v, after_v, delta, rel, ci, p, counts),
    )
