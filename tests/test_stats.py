from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from core.evaluation import stats

# Fixed per-query data: 40 queries, after = before + a clear gain on most of them.
BEFORE = np.array([0.2, 0.5, 0.0, 1.0, 0.3, 0.6, 0.1, 0.4, 0.0, 0.7] * 4)
GAIN = np.array([0.3, 0.2, 0.5, 0.0, 0.4, 0.2, 0.3, -0.1, 0.6, 0.1] * 4)
AFTER = np.clip(BEFORE + GAIN, 0, 1)


def test_clear_improvement_is_significant_and_ci_excludes_zero():
    result = stats.compare("Recall@10", BEFORE, AFTER, seed=0)
    diff = AFTER - BEFORE
    assert result.n == 40
    assert result.delta == pytest.approx(diff.mean())
    assert 0 < result.ci_low < diff.mean() < result.ci_high
    assert result.p_value < 0.001
    assert result.significant
    assert (result.better, result.worse, result.same) == (32, 4, 4)
    assert result.verdict.startswith("Better on 32 queries, worse on 4, no change on 4.")
    assert "real improvement" in result.verdict


def test_shuffled_after_is_not_significant():
    after = np.random.default_rng(3).permutation(BEFORE)  # same values, no relation to the queries
    result = stats.compare("Recall@10", BEFORE, after, seed=0)
    assert result.delta == pytest.approx(0.0)
    assert result.ci_low < 0 < result.ci_high
    assert result.p_value > 0.3
    assert not result.significant
    assert "could be chance" in result.verdict


def test_regression_is_called_a_regression():
    result = stats.compare("nDCG@10", AFTER, BEFORE, seed=0)
    assert result.significant and result.delta < 0 and result.ci_high < 0
    assert "real regression" in result.verdict


def test_interval_and_test_that_disagree_are_called_borderline():
    # 66 queries, 7 gained a relevant hit and 1 lost one: the bootstrap interval excludes zero,
    # the randomization test does not (p ~ 0.07, the sign test's 2 * 9/256); say so, not "real".
    before, after = np.zeros(66), np.zeros(66)
    after[:7], before[7] = 1.0, 1.0
    result = stats.compare("Recall@10", before, after, seed=0)
    assert result.ci_low > 0 and 0.05 < result.p_value < 0.1
    assert not result.significant
    assert "borderline" in result.verdict and "real" not in result.verdict


def test_exact_randomization_p_value_by_hand():
    # 6 queries, all improved: of the 2**6 sign flips only all-plus and all-minus reach |mean| >= observed.
    before = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    after = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert stats.paired_p_value(before, after) == pytest.approx(2 / 64)


def test_bootstrap_is_seeded_and_reproducible():
    rng = np.random.default_rng(0)
    before = rng.uniform(0, 1, 30)
    after = np.clip(before + rng.normal(0.05, 0.2, 30), 0, 1)
    first = stats.bootstrap_ci(before, after, seed=11)
    assert first == stats.bootstrap_ci(before, after, seed=11)
    assert first != stats.bootstrap_ci(before, after, seed=12)


def test_constant_difference_has_a_point_interval_and_no_change_is_said_plainly():
    assert stats.bootstrap_ci([0.1, 0.2, 0.3], [0.2, 0.3, 0.4]) == pytest.approx((0.1, 0.1))
    same = stats.compare("Recall@10", [0.5] * 8, [0.5] * 8)
    assert same.p_value == 1.0 and not same.significant
    assert "No query changed" in same.verdict


def test_too_few_queries_says_so():
    result = stats.compare("Recall@10", [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    assert not result.significant
    assert "too few" in result.verdict


def test_relative_change_and_stored_means():
    result = stats.compare("MRR@10", BEFORE, AFTER, before_mean=0.5, after_mean=0.6)
    assert result.before == 0.5 and result.after == 0.6
    assert result.rel_change == pytest.approx(0.2)
    assert stats.compare("MRR@10", [0.0] * 6, [0.5] * 6).rel_change is None


def test_mismatched_lengths_are_refused():
    with pytest.raises(InputError, match="equal-length"):
        stats.compare("Recall@10", [0.1, 0.2], [0.3])
    with pytest.raises(InputError, match="NaN"):
        stats.compare("Recall@10", [0.1, float("nan")], [0.3, 0.4])
