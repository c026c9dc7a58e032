"""Fit a learning curve to measured points, project it, and backtest the projection.

The curve is an inverse power law, metric(n) = a - b * n^-c, in the number n of train
queries (the usual shape of learning curves: gains shrink as labels grow). It is fitted with
scipy's curve_fit, each fraction weighted by how much its seeds disagree. The band comes from
a bootstrap that resamples eval queries and seeds and refits: it bounds the change from today's
labels on this eval set (the set's own level is the headline CI's business, not the curve's). The backtest fits the smaller subsets only and predicts
the largest one: its error is the honest size of an extrapolation, shown beside every projection.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

MULTIPLIERS = (1.5, 2.0, 4.0)  # projections at these multiples of today's train queries
HEADLINE = 2.0  # the multiplier the plain sentence speaks about
SIGMA_FLOOR = 0.01  # no fraction counts as noise-free, even when its seeds agree
BOUNDS = ([0.0, -10.0, 0.05], [1.0, 10.0, 2.0])  # a: metrics live in [0, 1]; c: from nearly flat to steep
FIXED_C = 0.5  # with fewer than three sizes, the exponent is fixed and only a, b are fitted
BOOTSTRAP = 200
GRID = 40  # points on which the band is drawn
LEVEL = 0.95


def power_law(n, a: float, b: float, c: float):
    return a - b * np.power(np.asarray(n, dtype=float), -c)


@dataclass(frozen=True)
class Fit:
    a: float
    b: float
    c: float
    fixed_c: bool = False

    def __call__(self, n) -> np.ndarray:
        return power_law(n, self.a, self.b, self.c)

    def as_dict(self) -> dict:
        return {"form": "a - b * n^-c", **{k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}}


@dataclass
class Projection:
    """What the curve says, with its uncertainty and its track record."""

    fit: Fit
    points: list[dict]  # per fraction: fraction, train_queries, value (mean over seeds), values (per seed)
    projection: list[dict]  # train_queries, multiplier, value, low, high
    band: list[dict]  # the fitted curve and its band from the smallest subset to the last projection, for charts
    backtest: dict  # fit_on_queries, train_queries, predicted, actual, error (None when it cannot be run)
    current: float  # the fitted value at today's train queries
    informative: bool
    notes: list[str] = field(default_factory=list)

    def headline(self) -> dict:
        return next(p for p in self.projection if p["multiplier"] == HEADLINE)


def _sigma(per_seed: list[np.ndarray]) -> np.ndarray:
    """Per size: standard error of the mean over seeds, floored."""
    return np.array([np.sqrt((np.var(v, ddof=1) / len(v) if len(v) > 1 else 0.0) + SIGMA_FLOOR**2) for v in per_seed])


def fit_curve(n: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None, start: Fit | None = None) -> Fit:
    """Weighted least squares of the power law; several starting exponents, the best kept."""
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    if len(n) == 0:
        raise ValueError("a learning curve needs at least one point")
    if len(np.unique(n)) < 3:
        if len(np.unique(n)) < 2:
            return Fit(float(np.clip(np.mean(y), 0, 1)), 0.0, FIXED_C, fixed_c=True)
        with warnings.catch_warnings():  # two points, two parameters: no covariance, which nothing here reads
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, b), _ = curve_fit(lambda x, a, b: power_law(x, a, b, FIXED_C), n, y, p0=[float(np.clip(y.max(), 0, 1)), 0.0],
                                  sigma=sigma, bounds=([BOUNDS[0][0], BOUNDS[0][1]], [BOUNDS[1][0], BOUNDS[1][1]]))
        return Fit(float(a), float(b), FIXED_C, fixed_c=True)
    starts = [(start.a, start.b, start.c)] if start else [(float(np.clip(y.max(), 0, 1)), 0.0, c) for c in (0.2, 0.5, 1.0)]
    best, best_cost = None, np.inf
    for p0 in starts:
        p0 = tuple(np.clip(p0, BOUNDS[0], BOUNDS[1]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                params, _ = curve_fit(power_law, n, y, p0=p0, sigma=sigma, bounds=BOUNDS, maxfev=2000)
        except RuntimeError:  # did not converge from this start
            continue
        residual = (power_law(n, *params) - y) / (sigma if sigma is not None else 1.0)
        cost = float(np.sum(residual**2))
        if cost < best_cost:
            best, best_cost = params, cost
    if best is None:
        return Fit(float(np.clip(np.mean(y), 0, 1)), 0.0, FIXED_C, fixed_c=True)
    return Fit(*(float(v) for v in best))


def _by_size(sizes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Group per-point values (points x queries means) by size: unique sizes, per-seed arrays."""
    unique = np.unique(sizes)
    return unique, [values[sizes == s] for s in unique]


def project(sizes, per_query: np.ndarray, multipliers=MULTIPLIERS, *, seed: int = 0, n_boot: int = BOOTSTRAP) -> Projection:
    """Fit, band, projection and backtest from measured points.

    `sizes[i]` is point i's number of train queries; `per_query[i, j]` its metric on eval query j
    (one row per fraction and seed; all rows on the same eval queries).
    """
    sizes = np.asarray(sizes, dtype=float)
    per_query = np.asarray(per_query, dtype=float)
    if per_query.ndim != 2 or per_query.shape[0] != len(sizes) or not len(sizes):
        raise ValueError(f"project expects one row of per-query values per point, but got {per_query.shape} for {len(sizes)} points")
    means = per_query.mean(axis=1)
    unique, groups = _by_size(sizes, means)
    y = np.array([g.mean() for g in groups])
    fit = fit_curve(unique, y, _sigma(groups))
    today = float(unique.max())
    targets = np.array([today * m for m in multipliers])
    grid = np.geomspace(unique.min(), max(targets.max(), today), GRID)
    at = np.concatenate([targets, grid])
    rng = np.random.default_rng(seed)
    gains = []  # per resample: the refitted curve's change from today's size to each size in `at`
    for _ in range(n_boot):
        queries = rng.integers(0, per_query.shape[1], per_query.shape[1])
        rows = np.concatenate([rng.choice(np.flatnonzero(sizes == s), (sizes == s).sum()) for s in unique])
        u, g = _by_size(sizes[rows], per_query[np.ix_(rows, queries)].mean(axis=1))
        refit = fit_curve(u, np.array([v.mean() for v in g]), _sigma(g), start=None if fit.fixed_c else fit)
        gains.append(refit(at) - refit(today))
    tail = (1 - LEVEL) / 2
    # The band is on the change from today, added to today's fitted value: every point shares the eval set, so its
    # overall level (the headline CI's business) is not uncertainty about what more labels buy.
    low, high = float(fit(today)) + np.quantile(np.array(gains), [tail, 1 - tail], axis=0)
    projection = [
        {"train_queries": int(round(t)), "multiplier": m, "value": round(float(fit(t)), 4), "low": round(float(lo), 4),
         "high": round(float(hi), 4)}
        for t, m, lo, hi in zip(targets, multipliers, low, high)
    ]
    band = [{"train_queries": round(float(n), 1), "value": round(float(fit(n)), 4), "low": round(float(lo), 4), "high": round(float(hi), 4)}
            for n, lo, hi in zip(grid, low[len(targets):], high[len(targets):])]
    backtest = backtest_curve(unique, y, groups)
    current = float(fit(today))
    points = [{"train_queries": int(s), "value": round(float(m), 4), "values": [round(float(v), 4) for v in g]}
              for s, m, g in zip(unique, y, groups)]
    result = Projection(fit=fit, points=points, projection=projection, band=band, backtest=backtest, current=round(current, 4), informative=False)
    result.informative, note = informative(result)
    result.notes.append(note)
    return result


def backtest_curve(unique: np.ndarray, y: np.ndarray, groups: list[np.ndarray]) -> dict:
    """Fit every size but the largest, predict the largest, and compare with what was measured."""
    today = float(unique.max())
    keep = unique < today
    if keep.sum() < 2:
        return {"fit_on_queries": [int(s) for s in unique[keep]], "train_queries": int(today), "predicted": None,
                "actual": round(float(y[~keep][0]), 4), "error": None}
    fit = fit_curve(unique[keep], y[keep], _sigma([g for g, k in zip(groups, keep) if k]))
    predicted, actual = float(fit(today)), float(y[~keep][0])
    return {"fit_on_queries": [int(s) for s in unique[keep]], "train_queries": int(today), "predicted": round(predicted, 4),
            "actual": round(actual, 4), "error": round(abs(predicted - actual), 4)}


def informative(result: Projection) -> tuple[bool, str]:
    """Is the projected gain bigger than the curve's own backtest error? If not, say so."""
    head = result.headline()
    gain = head["value"] - result.current
    error = result.backtest["error"]
    if error is None:
        return False, ("Not informative yet: a backtest needs at least three subset sizes (e.g. --fractions 0.25,0.5,0.75,1.0), "
                       "so nothing checks the projection.")
    if error >= abs(gain):
        return False, (f"Not informative yet: fitted on the smaller subsets, the curve missed today's value by {error:.3f}, "
                       f"more than the change it projects for {HEADLINE:g}x the labels ({gain:+.3f}). Re-run it with more seeds, "
                       "or after the next batch of labels.")
    return True, (f"Backtest: fitted on the smaller subsets, the curve predicted today's value within {error:.3f}, "
                  f"less than the projected change ({gain:+.3f}).")


def sentence(result: Projection, metric_label: str, unit: str = "graded train queries") -> str:
    """One plain sentence: 'about 120 more graded train queries → nDCG@10 0.71–0.74' (unit: what the sizes count)."""
    head = result.headline()
    today = result.points[-1]["train_queries"]
    more = head["train_queries"] - today
    if not result.informative:
        return (f"Not informative yet: about {more} more {unit} ({HEADLINE:g}x today's {today}) project {metric_label} "
                f"{head['value']:.2f} ({head['low']:.2f}–{head['high']:.2f}), a change of {head['value'] - result.current:+.3f}, "
                f"no bigger than the curve's backtest error ({_fmt(result.backtest['error'])}).")
    return (f"About {more} more {unit} ({HEADLINE:g}x today's {today}) → {metric_label} "
            f"{head['low']:.2f}–{head['high']:.2f} (today {result.points[-1]['value']:.2f}; backtest error {result.backtest['error']:.3f}).")


def _fmt(value: float | None) -> str:
    return "not measurable" if value is None else f"{value:.3f}"
