"""PPI against a known truth: a synthetic judge with known noise and bias over simulated queries."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from core.evaluation import ppi

QUERIES, AUDIT, REPEATS = 1000, 80, 300


def simulate(rng: np.random.Generator, judge: str) -> tuple[float, ppi.Estimate]:
    """One repetition: per-query truth (an nDCG-like value in [0, 1]), a judge, a random audit sample."""
    truth = rng.beta(2, 3, QUERIES)
    if judge == "informative":  # biased (too kind on bad results) and noisy, but it tracks the truth
        grades = np.clip(0.6 * truth + 0.25 + rng.normal(0, 0.08, QUERIES), 0, 1)
    else:  # useless: unrelated to the truth, and biased
        grades = rng.beta(2, 2, QUERIES)
    audit = rng.permutation(QUERIES)[:AUDIT]
    rest = np.setdiff1d(np.arange(QUERIES), audit)
    return float(truth.mean()), ppi.estimate(truth[audit], grades[audit], grades[rest])


@pytest.mark.parametrize("judge", ["informative", "useless"])
def test_the_ppi_interval_covers_the_truth_at_95_percent(judge):
    rng = np.random.default_rng(7)
    results = [simulate(rng, judge) for _ in range(REPEATS)]
    covered = np.mean([e.ppi.low <= truth <= e.ppi.high for truth, e in results])
    assert covered >= 0.93, covered
    if judge == "informative":
        widths = np.array([(e.ppi.width, e.classical.width) for _, e in results])
        assert (widths[:, 0] < widths[:, 1]).mean() > 0.95  # narrower than people alone, almost every time
        assert np.median([e.effective_queries for _, e in results]) > 2 * AUDIT
        assert np.mean([e.used_ppi for _, e in results]) > 0.99
        # the judge's bias is corrected: the naive mean of its grades misses the truth, PPI does not
        assert abs(np.mean([e.ppi.estimate - truth for truth, e in results])) < 0.005
    else:
        assert np.mean([e.used_ppi for _, e in results]) < 0.3  # chance clears the rule about one time in six


def test_the_interval_is_95_percent_not_ppi_pys_default_90():
    rng = np.random.default_rng(1)
    y = rng.normal(0.5, 0.2, 400)
    found = ppi.estimate(y, y, rng.normal(0.5, 0.2, 10))
    half = 1.959964 * y.std() / np.sqrt(len(y))  # z at 97.5%, as ppi_py's classical interval uses
    assert found.classical.width == pytest.approx(2 * half, rel=1e-6)


def test_a_useless_judge_is_said_to_not_help():
    _, found = simulate(np.random.default_rng(3), "useless")
    assert not found.used_ppi and "does not help yet" in found.note
    assert found.as_dict()["used_ppi"] is False


def test_an_audit_of_every_query_needs_no_judge():
    y = np.array([0.2, 0.4, 0.9, 0.5])
    found = ppi.estimate(y, y, [])
    assert not found.used_ppi and found.ppi == found.classical and "alone answer" in found.note


def test_too_few_audit_queries_say_what_to_do():
    with pytest.raises(InputError, match="at least 3 audit queries.*grade the audit queue"):
        ppi.estimate([0.5, 0.2], [0.5, 0.1], [0.3] * 10)


def test_a_judge_that_never_varies_gives_the_classical_interval():
    y = np.array([0.2, 0.4, 0.9, 0.5, 0.7])
    found = ppi.estimate(y, np.zeros(5), np.zeros(20))
    assert np.isfinite([found.ppi.low, found.ppi.high]).all()
    assert found.ppi.estimate == pytest.approx(found.classical.estimate) and found.ppi.width == pytest.approx(found.classical.width)
    assert not found.used_ppi and "does not vary" in found.note
