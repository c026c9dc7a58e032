from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from core.labeling import agreement
from core.storage.schemas import Event, Judgment, now

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with missing
# data: 4 observers, 12 units, values 1-5. Published: nominal .743, ordinal .815, interval .849.
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])


def reference_quadratic_kappa(a, b, n=6):
    """Cohen (1968) weighted kappa written out: 1 - sum(w*O) / sum(w*E), w = (i-j)^2."""
    observed = np.zeros((n, n))
    for x, y in zip(a, b, strict=True):
        observed[x, y] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    weights = np.subtract.outer(np.arange(n), np.arange(n)) ** 2
    return 1 - (weights * observed).sum() / (weights * expected).sum()


def frame(grades: dict[str, list[float]]) -> pd.DataFrame:
    """Reviewer → grades over items i0, i1, … (NaN = not graded) as judgment rows."""
    rows = [
        {"query_id": f"q{i // 3}", "doc_id": f"d{i}", "reviewer": who, "grade": int(g), "hard_negative": False}
        for who, values in grades.items() for i, g in enumerate(values) if not np.isnan(g)
    ]
    return pd.DataFrame(rows)


def test_alpha_matches_the_published_values():
    assert agreement.ordinal_alpha(KRIPPENDORFF_2011) == pytest.approx(0.815, abs=5e-4)


def test_agreement_reshapes_judgments_into_the_published_alpha():
    data = frame({name: list(row) for name, row in zip("ABCD", KRIPPENDORFF_2011, strict=True)})
    result = agreement.agreement(data)
    assert result.items == 11  # unit 12 has a single value: not pairable
    assert result.alpha == pytest.approx(0.815, abs=5e-4)


def test_quadratic_kappa_equals_the_reference_formula():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 6, 200)
    b = np.clip(a + rng.integers(-2, 3, 200), 0, 5)
    assert agreement.quadratic_kappa(a, b) == pytest.approx(reference_quadratic_kappa(a, b), abs=1e-12)
    assert agreement.quadratic_kappa([0, 1, 2, 5], [0, 1, 2, 5]) == pytest.approx(1.0)
    assert agreement.quadratic_kappa([0, 5], [5, 0]) == pytest.approx(-1.0)  # by hand: 1 - 1/0.5
    assert agreement.quadratic_kappa([3, 3], [3, 3]) is None  # no variation: undefined, not 1 or 0
    assert agreement.quadratic_kappa([], []) is None


def test_pairs_exact_and_within_one():
    data = frame({"ann": [5, 4, 0, 2, NAN], "bob": [5, 2, 1, 2, 3], "cid": [NAN, NAN, NAN, 2, 3]})
    result = agreement.agreement(data)
    assert result.items == 5
    pairs = result.pairs.set_index(["reviewer_a", "reviewer_b"])
    ann_bob = pairs.loc[("ann", "bob")]
    assert ann_bob["items"] == 4
    assert ann_bob["exact"] == pytest.approx(2 / 4) and ann_bob["within_one"] == pytest.approx(3 / 4)
    assert ann_bob["kappa"] == pytest.approx(reference_quadratic_kappa([5, 4, 0, 2], [5, 2, 1, 2]))
    assert pairs.loc[("ann", "cid"), "items"] == 1 and pairs.loc[("bob", "cid"), "items"] == 2
    # overall: 4 + 1 + 2 pairs, exact in 2 + 1 + 2 of them
    assert result.exact == pytest.approx(5 / 7) and result.within_one == pytest.approx(6 / 7)


def test_disagreements_widest_first():
    data = frame({"ann": [5, 4, 0, 2], "bob": [0, 3, 2, 2]})
    worst = agreement.disagreements(data)
    assert list(worst["doc_id"]) == ["d0", "d2", "d1"]
    assert list(worst["spread"]) == [5, 2, 1]
    assert worst["grades"].iloc[0] == "ann: 5, bob: 0"


def test_disagreements_show_the_query_text_and_document_title(small_store):
    graded = pd.DataFrame([{"query_id": "q2", "doc_id": "d4", "reviewer": who, "grade": g, "hard_negative": False}
                           for who, g in (("ann", 5), ("bob", 1))])
    shown = agreement.with_texts(small_store, agreement.disagreements(graded))
    assert shown[["query", "title", "spread"]].iloc[0].tolist() == ["do I need a PA for an MRI", "Prior authorization (PA)", 4]


def test_store_figures_leave_imports_out_unless_asked(small_store):
    stamp = now()
    rows = [Judgment(query_id="q1", doc_id=d, reviewer=r, grade=g, created_at=stamp, updated_at=stamp)
            for r, grades in {"ann": {"d1": 5, "d2": 1, "d3": 0}, "bob": {"d1": 4, "d2": 0, "d3": 3}}.items()
            for d, g in grades.items()]
    small_store.add("judgments", rows)
    people = agreement.agreement(agreement.read_judgments(small_store))
    assert people.items == 3 and list(people.pairs["reviewer_a"]) == ["ann"]
    everyone = agreement.agreement(agreement.read_judgments(small_store, include_imports=True))
    assert "import:small" in set(everyone.pairs["reviewer_b"])


def test_reviewer_counts_and_speed_from_grade_events(small_store):
    start = now()
    small_store.add("events", [Event(event_id=f"e{i}", at=start + timedelta(seconds=s), actor="ann", action="grade", target=f"judgment:q1/d{i}")
                               for i, s in enumerate([0, 4, 10, 14, 2000, 2006])])  # one long break
    stamp = now()
    small_store.add("judgments", [Judgment(query_id="q1", doc_id=f"d{i}", reviewer="ann", grade=1, hard_negative=i <= 2,
                                           created_at=stamp, updated_at=stamp) for i in range(1, 7)])
    stats = agreement.reviewer_stats(small_store).set_index("reviewer")
    assert list(stats.index) == ["ann"]
    ann = stats.loc["ann"]
    assert (ann["judgments"], ann["queries"], ann["hard_negatives"]) == (6, 1, 2)
    # active gaps 4, 6, 4, 6 s (the 1986 s break is left out)
    assert ann["median_s_per_grade"] == pytest.approx(5.0)
    assert ann["grades_per_min"] == pytest.approx(4 / 20 * 60)


def test_empty_store_has_no_figures(store):
    result = agreement.agreement(agreement.read_judgments(store))
    assert result.items == 0 and result.alpha is None and result.pairs.empty
    assert agreement.reviewer_stats(store).empty


def test_same_pace_with_one_pause_gives_about_the_same_speed(small_store):
    """Two reviewers grading every 5 s; bob stops for 4 minutes once (under a break): his rate must not collapse."""
    start = now()
    events = []
    for actor, times in {"ann": [5 * i for i in range(12)], "bob": [5 * i for i in range(6)] + [25 + 240 + 5 * i for i in range(6)]}.items():
        events += [Event(event_id=f"{actor}{i}", at=start + timedelta(seconds=s), actor=actor, action="grade", target=f"judgment:q1/d{i}")
                   for i, s in enumerate(times)]
    small_store.add("events", events)
    stamp = now()
    small_store.add("judgments", [Judgment(query_id="q1", doc_id=f"d{i}", reviewer=r, grade=1, created_at=stamp, updated_at=stamp)
                                  for r in ("ann", "bob") for i in range(1, 3)])
    stats = agreement.reviewer_stats(small_store).set_index("reviewer")
    assert stats.loc["ann", "grades_per_min"] == pytest.approx(12.0)
    assert stats.loc["bob", "grades_per_min"] == pytest.approx(11 / (10 * 5 + 60) * 60)  # the pause counts 60 s, not 240
    assert stats.loc["bob", "grades_per_min"] > 2 * 11 / (10 * 5 + 245) * 60  # counting the whole pause gave 2.2


def test_interpretation_bands_name_their_scale():
    assert agreement.band(0.919, agreement.KAPPA_BANDS) == "almost perfect"
    assert agreement.band(0.523, agreement.ALPHA_BANDS).startswith("unreliable")
    assert agreement.band(0.7, agreement.ALPHA_BANDS).startswith("tentative")
    assert agreement.band(-0.1, agreement.KAPPA_BANDS).startswith("poor")
    assert agreement.band(None, agreement.ALPHA_BANDS) == "not defined yet"
    words = agreement.why_they_differ(10, 0.919, 0.523)
    assert "only 10 items" in words and "differ by 0.40" in words
