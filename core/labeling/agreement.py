"""How much reviewers agree on grades: Cohen's kappa per pair, Krippendorff's alpha overall.

An item is a (query, document) graded by two or more reviewers. Grades are ordinal 0–5, so
kappa uses quadratic weights and alpha the ordinal metric, both from the reference libraries
(scikit-learn, krippendorff). Imported qrels are left out unless asked for: they are not a
person whose agreement we can act on.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from core.labeling.grading import GRADES, is_human
from core.storage.store import Store

ACTIVE_GAP_S = 300.0  # a pause longer than this between two grades is a break, not grading time
IDLE_CAP_S = 60.0  # a gap up to a break counts as at most this much grading time (reading, then a coffee)
FEW_ITEMS = 30  # below this, one disagreement moves kappa and alpha a lot

# Interpretation bands, with the scale named on the page: Landis & Koch (1977) for kappa,
# Krippendorff (2004, Content Analysis §12.4) for alpha.
KAPPA_BANDS = ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"), (1.01, "almost perfect"))
KAPPA_SCALE = "Landis & Koch: < 0 poor · 0–0.20 slight · 0.21–0.40 fair · 0.41–0.60 moderate · 0.61–0.80 substantial · 0.81–1 almost perfect"
ALPHA_BANDS = ((0.667, "unreliable: do not train on these grades yet"), (0.8, "tentative: fine for exploring, not for decisions"),
               (1.01, "reliable"))
ALPHA_SCALE = "Krippendorff: ≥ 0.800 reliable · 0.667–0.800 tentative conclusions only · < 0.667 unreliable"


def band(value: float | None, bands: tuple[tuple[float, str], ...]) -> str:
    """The words for a coefficient: the first band whose upper bound it is below."""
    if value is None:
        return "not defined yet"
    if bands is KAPPA_BANDS and value < 0:
        return "poor (worse than chance)"
    return next((words for upper, words in bands if value < upper), bands[-1][1])


def why_they_differ(items: int, kappa: float | None, alpha: float | None) -> str:
    """Why kappa and alpha can tell different stories, in words for the reviewers' lead."""
    text = ("κ compares each pair of reviewers with what *their own* grade habits would give by chance; α pools every "
            "reviewer and item and measures disagreement against the spread of *all* grades. When most grades sit on one or "
            "two values, the expected disagreement is small, so a few wide disagreements pull α down much more than κ.")
    if items < FEW_ITEMS:
        text += (f" With only {items} items graded twice, one item can move either coefficient by 0.1 or more: "
                 f"grade about {FEW_ITEMS} overlapping items before acting on them.")
    if kappa is not None and alpha is not None and abs(kappa - alpha) > 0.2:
        text += f" Here they differ by {abs(kappa - alpha):.2f}: read the widest disagreements below before trusting either."
    return text


@dataclass
class Agreement:
    items: int = 0  # items graded by two or more reviewers
    alpha: float | None = None  # Krippendorff's alpha, ordinal
    exact: float | None = None  # share of reviewer pairs on an item giving the same grade
    within_one: float | None = None  # … grades at most one apart
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # reviewer_a, reviewer_b, items, kappa, exact, within_one


def read_judgments(store: Store, include_imports: bool = False) -> pd.DataFrame:
    frame = store.read("judgments", columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative"])
    if not include_imports:
        frame = frame[frame["reviewer"].map(is_human)]
    return frame.reset_index(drop=True)


def grade_matrix(judgments: pd.DataFrame) -> pd.DataFrame:
    """Items (query_id, doc_id) × reviewers → grade (NaN where not graded), items with ≥ 2 grades."""
    if judgments.empty:
        return pd.DataFrame()
    wide = judgments.pivot_table(index=["query_id", "doc_id"], columns="reviewer", values="grade", aggfunc="last")
    return wide[wide.notna().sum(axis=1) >= 2]


def quadratic_kappa(a: list[int] | np.ndarray, b: list[int] | np.ndarray) -> float | None:
    """Cohen's kappa with quadratic weights on the 0–5 scale; None when undefined (no variation)."""
    if len(a) == 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns and returns NaN when kappa is undefined
        value = cohen_kappa_score(np.asarray(a, int), np.asarray(b, int), weights="quadratic", labels=list(GRADES))
    return None if np.isnan(value) else float(value)


def ordinal_alpha(matrix: np.ndarray) -> float | None:
    """Krippendorff's alpha (ordinal) of a reviewers × items matrix with NaN for missing."""
    values = matrix[~np.isnan(matrix)]
    if values.size == 0 or np.unique(values).size < 2:
        return None
    value = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal", value_domain=list(GRADES))
    return None if np.isnan(value) else float(value)


def _pair_shares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    diff = np.abs(x - y)
    return float(np.mean(diff == 0)), float(np.mean(diff <= 1))


def agreement(judgments: pd.DataFrame) -> Agreement:
    wide = grade_matrix(judgments)
    if wide.empty:
        return Agreement()
    rows, exact, within = [], [], []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if both.empty:
            continue
        x, y = both[a].to_numpy(), both[b].to_numpy()
        share_exact, share_within = _pair_shares(x, y)
        exact.append(np.abs(x - y) == 0)
        within.append(np.abs(x - y) <= 1)
        rows.append({"reviewer_a": a, "reviewer_b": b, "items": len(both), "kappa": quadratic_kappa(x, y),
                     "exact": share_exact, "within_one": share_within})
    return Agreement(
        items=len(wide),
        alpha=ordinal_alpha(wide.to_numpy(dtype=float).T),
        exact=float(np.mean(np.concatenate(exact))),
        within_one=float(np.mean(np.concatenate(within))),
        pairs=pd.DataFrame(rows, columns=["reviewer_a", "reviewer_b", "items", "kappa", "exact", "within_one"]),
    )


def disagreements(judgments: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Items with the widest spread of grades first: query_id, doc_id, spread, grades ('ann: 5, bob: 1')."""
    wide = grade_matrix(judgments)
    columns = ["query_id", "doc_id", "spread", "reviewers", "grades"]
    if wide.empty:
        return pd.DataFrame(columns=columns)
    spread = wide.max(axis=1) - wide.min(axis=1)
    out = pd.DataFrame({
        "spread": spread.astype(int),
        "reviewers": wide.notna().sum(axis=1).astype(int),
        "grades": [", ".join(f"{r}: {int(g)}" for r, g in row.dropna().items()) for _, row in wide.iterrows()],
    }).reset_index()
    out = out[out["spread"] > 0].sort_values(["spread", "query_id", "doc_id"], ascending=[False, True, True], kind="stable")
    return out.head(top).reset_index(drop=True)[columns]


def with_texts(store: Store, items: pd.DataFrame) -> pd.DataFrame:
    """Adds each item's query text and document title, so a reviewer sees what was disagreed on."""
    if items.empty:
        return items.assign(query=pd.Series(dtype=str), title=pd.Series(dtype=str))
    queries = store.read("queries", where={"query_id": set(items["query_id"])}, columns=["query_id", "text"])
    docs = store.read("documents", where={"doc_id": set(items["doc_id"])}, columns=["doc_id", "title"])
    out = items.merge(queries.rename(columns={"text": "query"}), on="query_id", how="left")
    out = out.merge(docs, on="doc_id", how="left")
    return out.fillna({"query": "", "title": ""})


def reviewer_stats(store: Store, include_imports: bool = False) -> pd.DataFrame:
    """Per reviewer: judgments, queries, hard negatives, and speed from their grade events."""
    judgments = read_judgments(store, include_imports)
    columns = ["reviewer", "judgments", "queries", "hard_negatives", "median_s_per_grade", "grades_per_min"]
    if judgments.empty:
        return pd.DataFrame(columns=columns)
    counts = judgments.groupby("reviewer").agg(
        judgments=("grade", "size"), queries=("query_id", "nunique"), hard_negatives=("hard_negative", "sum")
    )
    events = store.read("events", where={"action": "grade"}, columns=["actor", "at"])
    speed = {}
    for actor, group in events.groupby("actor"):
        gaps = group["at"].sort_values().diff().dt.total_seconds().dropna()
        gaps = gaps[gaps <= ACTIVE_GAP_S]
        if len(gaps):
            # Active time: each gap counts, up to IDLE_CAP_S; a longer gap was mostly not grading.
            active = float(gaps.clip(upper=IDLE_CAP_S).sum())
            speed[actor] = (float(gaps.median()), len(gaps) / max(active, 1e-9) * 60.0)
    counts["median_s_per_grade"] = [speed.get(r, (None, None))[0] for r in counts.index]
    counts["grades_per_min"] = [speed.get(r, (None, None))[1] for r in counts.index]
    counts["hard_negatives"] = counts["hard_negatives"].astype(int)
    return counts.reset_index()[columns]
