"""The learning-curve fit: known parameters recovered, the backtest's error, the 'not informative yet' call."""

from __future__ import annotations

import numpy as np
import pytest

from core.training import curvefit
from core.training.curvefit import power_law, project

SIZES = np.array([40, 80, 120, 160])
TRUE = (0.8, 1.2, 0.5)  # a, b, c: 0.61 at 40 queries rising to 0.71 at 160


def exact_points(sizes=SIZES, params=TRUE, seeds=3, queries=60, spread=0.05, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Per-query values whose mean is exactly on the curve (per size and seed), with query-level spread."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(sizes, seeds)
    noise = rng.normal(0, spread, (len(rows), queries))
    noise -= noise.mean(axis=1, keepdims=True)
    return rows, power_law(rows, *params)[:, None] + noise


def test_fit_recovers_known_parameters():
    fit = curvefit.fit_curve(SIZES, power_law(SIZES, *TRUE))
    assert (fit.a, fit.b, fit.c) == pytest.approx(TRUE, abs=1e-4)
    assert not fit.fixed_c


def test_projection_follows_the_true_curve_and_its_band_contains_it():
    rows, values = exact_points()
    result = project(rows, values)
    assert [p["train_queries"] for p in result.projection] == [240, 320, 640]
    for p in result.projection:
        truth = float(power_law(p["train_queries"], *TRUE))
        assert p["value"] == pytest.approx(truth, abs=2e-3)
        assert p["low"] <= truth <= p["high"] and p["low"] < p["value"] < p["high"]
    widths = [p["high"] - p["low"] for p in result.projection]
    assert widths == sorted(widths)  # the further out, the less certain


def test_backtest_error_is_the_miss_on_the_largest_subset():
    rows, values = exact_points(seeds=1)
    shift = 0.04
    values[rows == SIZES.max()] += shift  # the last point sits 0.04 above the curve the others lie on
    back = project(rows, values).backtest
    assert back["fit_on_queries"] == [40, 80, 120] and back["train_queries"] == 160
    assert back["predicted"] == pytest.approx(float(power_law(160, *TRUE)), abs=1e-3)
    assert back["actual"] == pytest.approx(float(power_law(160, *TRUE)) + shift, abs=1e-4)
    assert back["error"] == pytest.approx(shift, abs=1e-3)


def test_a_rising_curve_with_a_good_backtest_is_informative():
    rows, values = exact_points()
    result = project(rows, values)
    assert result.backtest["error"] == pytest.approx(0, abs=1e-3)
    assert result.informative
    text = curvefit.sentence(result, "nDCG@10")
    head = result.headline()
    assert text.startswith(f"About {320 - 160} more graded train queries") and f"{head['low']:.2f}–{head['high']:.2f}" in text


def test_a_flat_noisy_curve_is_not_informative_yet():
    rng = np.random.default_rng(3)
    rows = np.repeat(SIZES, 3)
    values = 0.65 + rng.normal(0, 0.02, (len(rows), 1)) + rng.normal(0, 0.05, (len(rows), 50))
    result = project(rows, values)
    gain = result.headline()["value"] - result.current
    assert result.backtest["error"] >= abs(gain)
    assert not result.informative
    assert curvefit.sentence(result, "nDCG@10").startswith("Not informative yet")


def test_too_few_sizes_for_a_backtest_is_not_informative():
    rows, values = exact_points(sizes=np.array([80, 160]))
    result = project(rows, values)
    assert result.fit.fixed_c and result.backtest["error"] is None
    assert not result.informative and "three subset sizes" in result.notes[0]


def test_project_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="one row of per-query values per point"):
        project(np.array([10, 20]), np.zeros((3, 5)))
