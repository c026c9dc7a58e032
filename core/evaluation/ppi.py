"""Prediction-powered inference: a judge's grades on every query, corrected by people's grades
on a random audit sample, give an unbiased estimate with a valid 95% interval.

The judge may be biased (it grades too kindly, or too harshly); the audit sample measures how
much, and PPI++ (Angelopoulos, Duchi & Zrnic 2023) subtracts it, weighting the judge by a
tuned lambda so a poor judge costs little. The math is `ppi_py`'s (ppi-python, MIT): its default
alpha is 0.1 (a 90% interval), so every call here passes ALPHA = 0.05 explicitly.

Validity rests on the audit sample being a random sample of the queries in scope, graded by
people who did not see the judge's grade, and on a judge that was not fitted on those grades.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import InputError

ALPHA = 0.05  # 95% intervals (ppi_py's default is 0.1)
MIN_AUDIT = 3  # below this neither interval exists


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Estimate:
    """PPI++ beside the classical estimate from the audit sample alone."""

    audit_queries: int  # n: queries people graded (the random audit sample)
    queries: int  # n + N: every query in scope
    ppi: Interval
    classical: Interval
    effective_queries: float  # n * (classical width / PPI width)^2: the audit sample PPI is worth
    correlation: float | None  # Pearson r of judge and people on the audit sample
    threshold: float  # the correlation the judge must clear to be used (finite-sample rule)
    used_ppi: bool
    note: str

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("ppi", "classical"):
            out[key] = {name: round(float(value), 6) for name, value in out[key].items()}
        out["effective_queries"] = round(self.effective_queries, 1)
        out["correlation"] = None if self.correlation is None else round(self.correlation, 4)
        out["threshold"] = round(self.threshold, 4)
        return out


def _ppi():
    """ppi_py, imported with the process's warning filters kept: it calls warnings.simplefilter("ignore") on import."""
    with warnings.catch_warnings():
        import ppi_py
    return ppi_py


def correlation_threshold(n: int) -> float:
    """The correlation a judge must clear on n audit queries: about 1/sqrt(n - 2), the size of a
    correlation that chance alone reaches one time in six. Below it, tuning lambda on the audit
    sample is mostly noise and the classical interval is the honest one."""
    return 1.0 / math.sqrt(n - 2) if n > 2 else 1.0


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson r, or None when either side does not vary."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def estimate(human, judge_audit, judge_rest, alpha: float = ALPHA) -> Estimate:
    """The mean of a per-query value over the queries in scope.

    human, judge_audit: people's and the judge's values on the audit queries (same order);
    judge_rest: the judge's values on the queries in scope outside the audit sample.
    """
    y, yhat, rest = (np.asarray(v, dtype=float).reshape(-1) for v in (human, judge_audit, judge_rest))
    n, big_n = len(y), len(rest)
    if len(yhat) != n:
        raise InputError(f"an estimate expects the judge's value for every audit query, but got {len(yhat)} for {n} queries")
    if n < MIN_AUDIT:
        raise InputError(f"an estimate expects at least {MIN_AUDIT} audit queries graded by people, but got {n}; "
                         "grade the audit queue on the Grade page")
    if not (np.isfinite(y).all() and np.isfinite(yhat).all() and np.isfinite(rest).all()):
        raise InputError("an estimate expects a number for every query, but got NaN; score the judge on every query in scope")
    ppi_py = _ppi()
    low, high = ppi_py.classical_mean_ci(y, alpha=alpha)
    classical = Interval(float(y.mean()), float(low), float(high))
    r, threshold = pearson(y, yhat), correlation_threshold(n)
    if big_n == 0:
        return Estimate(n, n, classical, classical, float(n), r, threshold, False,
                        "Every query in scope is in the audit sample: people's grades alone answer it.")
    # A judge that gives every query the same value carries no information, and PPI++'s lambda
    # (a ratio of its covariance to its variance) is 0/0: lambda 0 is the classical estimate.
    lam = 0.0 if np.ptp(np.concatenate([yhat, rest])) == 0 else None
    point = float(np.asarray(ppi_py.ppi_mean_pointestimate(y, yhat, rest, lam=lam)).reshape(-1)[0])
    low, high = (float(np.asarray(v).reshape(-1)[0]) for v in ppi_py.ppi_mean_ci(y, yhat, rest, alpha=alpha, lam=lam))
    ppi = Interval(point, low, high)
    effective = n * (classical.width / ppi.width) ** 2 if ppi.width > 0 else float(n)
    used = r is not None and r >= threshold
    if used:
        note = (f"The judge tracks people (r = {r:.2f} on {n} audit queries): its grades on all {n + big_n} queries, "
                f"corrected by the audit sample, are worth about {effective:.0f} human-graded queries.")
    else:
        shown = "does not vary" if r is None else f"r = {r:.2f}"
        note = (f"The judge does not help yet: on {n} audit queries it tracks people too loosely ({shown}; it needs "
                f"r >= {threshold:.2f}). The estimate is people's grades alone; grade more audit queries or pick another judge.")
    return Estimate(n, n + big_n, ppi, classical, effective, r, threshold, used, note)
