"""Judges measured against people: how far each source of pre-grades can be trusted.

A judge grades (query, document) pairs 0–5: the LLM judge (through instructor), a run's
re-ranker (its probability × 5), or a score mapped to grades (a run's bi-encoder cosine, a
run's pipeline score, the base retriever's cosine) by isotonic regression fitted on the
train split's grades. On the pairs people graded it gets quadratic-weighted and binary κ (at
the positive threshold, beside the base rate: κ on rare positives reads low), a confusion
matrix, MAE, and Kendall τ between the order of the stored systems (every run's ladder rungs)
under its grades and under people's (TREC RAG 2024: κ 0.3–0.5 can still rank systems at τ 0.9).

A judge fitted on this workspace's grades is scored only on queries it was not fitted on: a
run's model and every score map only on eval-split queries. A grade a reviewer accepted from a
suggestion is left out of the reference (it would count the judge against itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from core.errors import InputError
from core.evaluation import metrics
from core.labeling import judge as suggestions
from core.labeling.agreement import quadratic_kappa
from core.labeling.labels import Scale, consensus, source_scales
from core.labeling.llm import LLMClient
from core.search.models import Embedder
from core.storage.filters import Not, StartsWith
from core.storage.schemas import FLYWHEEL_TOP, IMPORT_REVIEWER, RunKind, RunStatus, Split
from core.storage.store import Store

Pair = tuple[str, str]
Grader = Callable[[list[Pair]], dict[Pair, int]]
KINDS = ("llm", "cross-encoder", "bi-encoder", "pipeline", "retriever")
MIN_FIT = 20  # graded train-split pairs needed to map a score to grades
MIN_SYSTEMS = 3  # below this Kendall's tau says nothing
HELD_OUT = "scored on eval-split queries only: it was trained or fitted on the train split"


@dataclass
class Judge:
    name: str  # the source as typed: llm, cross-encoder:RUN, bi-encoder:RUN, pipeline:RUN, retriever
    kind: str
    grader: Grader
    held_out: str  # which pairs it may be scored on, and why, in words
    scope: set[str] | None = None  # the query ids it may be scored on (None: every query)
    run_id: str = ""

    def grades(self, pairs: Iterable[Pair]) -> dict[Pair, int]:
        """Its 0–5 grade of each pair it can grade (the LLM judge without a client: only stored ones)."""
        return self.grader(sorted(set(pairs)))

    def allowed(self, query_ids: Iterable[str]) -> list[str]:
        return sorted(q for q in query_ids if self.scope is None or q in self.scope)


# -- reference: people's grades ------------------------------------------------------------
def reference(store: Store, include_imports: bool = False, query_ids: list[str] | None = None,
              keep_accepted: bool = False) -> tuple[pd.DataFrame, int]:
    """People's consensus grade per pair on its query's scale (query_id, doc_id, grade, top), and how
    many grades the reviewer accepted from a suggestion: left out (agreement: they would count the
    judge against itself), or kept and counted (`keep_accepted`: an audit query needs every grade)."""
    where = {"query_id": query_ids} if query_ids is not None else None
    frame = store.read("judgments", where=where, columns=["query_id", "doc_id", "reviewer", "grade", "hard_negative", "origin"])
    accepted = frame["origin"].fillna("") != ""
    keep = (keep_accepted | ~accepted) & (include_imports | ~frame["reviewer"].str.startswith(IMPORT_REVIEWER))
    labels = consensus(frame[keep].drop(columns="origin"), source_scales(store))
    return labels[["query_id", "doc_id", "grade", "top"]].reset_index(drop=True), int(accepted.sum())


def qrels_of(labels: pd.DataFrame) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for q, d, g in zip(labels["query_id"], labels["doc_id"], labels["grade"]):
        out.setdefault(q, {})[d] = int(g)
    return out


def on_scale(grade: int, top: int) -> int:
    """A judge's 0–5 grade on a query's scale, band for band (labels.Scale.from_flywheel)."""
    return Scale(int(top)).from_flywheel(int(grade))


# -- score maps ------------------------------------------------------------------------------
@dataclass
class ScoreMap:
    """Scores to 0–5 grades, monotone, fitted on graded train-split pairs (never on the pairs it is scored on)."""

    model: IsotonicRegression
    pairs: int

    @classmethod
    def fit(cls, scores: np.ndarray, grades: np.ndarray, what: str) -> ScoreMap:
        if len(scores) < MIN_FIT:
            raise InputError(f"mapping {what} scores to grades expects at least {MIN_FIT} graded train-split pairs, but got "
                             f"{len(scores)}; grade train queries, or pick the re-ranker or the LLM judge")
        model = IsotonicRegression(y_min=0, y_max=FLYWHEEL_TOP, out_of_bounds="clip").fit(scores, grades)
        return cls(model, len(scores))

    def grades(self, scores: np.ndarray) -> np.ndarray:
        return np.rint(self.model.predict(np.asarray(scores, dtype=float))).astype(int)


def fit_pairs(store: Store) -> tuple[list[Pair], np.ndarray]:
    """Train-split pairs with a grade (every reviewer, imports too: they are the training labels), on 0–5."""
    train = metrics.split_query_ids(store, Split.train)
    labels, _ = reference(store, include_imports=True, query_ids=train)
    target = labels["grade"].to_numpy(float) * FLYWHEEL_TOP / labels["top"].to_numpy(float)
    return list(zip(labels["query_id"], labels["doc_id"])), target


def mapped_grader(store: Store, score: Callable[[list[Pair]], np.ndarray], what: str) -> Grader:
    """A grader from a scorer: fit the score map on the train split once, then map."""
    pairs, target = fit_pairs(store)
    score_map = ScoreMap.fit(score(pairs) if pairs else np.zeros(0), target, what)

    def grade(wanted: list[Pair]) -> dict[Pair, int]:
        return dict(zip(wanted, score_map.grades(score(wanted)).tolist())) if wanted else {}

    return grade


def cosine_scorer(store: Store, embedder: Embedder) -> Callable[[list[Pair]], np.ndarray]:
    def score(pairs: list[Pair]) -> np.ndarray:
        queries = sorted({q for q, _ in pairs})
        docs = sorted({d for _, d in pairs})
        qtext, dtext = store.query_texts(queries), store.document_texts(docs)
        qv = dict(zip(queries, embedder.encode_queries([qtext.get(q, "") for q in queries])))
        dv = dict(zip(docs, embedder.encode_documents([dtext.get(d, "") for d in docs])))
        return np.array([float(qv[q] @ dv[d]) for q, d in pairs])

    return score


def ranked_scorer(store: Store, rank: Callable[[Mapping[str, str], int], dict[str, list[tuple[str, float]]]],
                  depth: int = 100) -> Callable[[list[Pair]], np.ndarray]:
    """A pipeline's score of each pair: its fused score where it ranks the document in its top
    `depth`, below its lowest score elsewhere (it would not have shown the document)."""
    def score(pairs: list[Pair]) -> np.ndarray:
        queries = sorted({q for q, _ in pairs})
        ranked = rank(store.query_texts(queries), depth) if queries else {}
        found = {(q, d): s for q, ranking in ranked.items() for d, s in ranking}
        floor = min(found.values(), default=0.0) - 1.0
        return np.array([found.get(p, floor) for p in pairs])

    return score


# -- graders that need no map ----------------------------------------------------------------
def cross_encoder_grader(store: Store, model: Any, batch_size: int = 64) -> Grader:
    def grade(pairs: list[Pair]) -> dict[Pair, int]:
        qtext, dtext = store.query_texts({q for q, _ in pairs}), store.document_texts({d for _, d in pairs})
        inputs = [(qtext.get(q, ""), dtext.get(d, "")) for q, d in pairs]
        scores = model.predict(inputs, batch_size=batch_size, show_progress_bar=False) if inputs else []
        return {p: suggestions.cross_encoder_grade(s) for p, s in zip(pairs, np.asarray(scores, dtype=float).reshape(-1))}

    return grade


def llm_grader(store: Store, agent: str, client: LLMClient | None, max_calls: int) -> Grader:
    """Stored LLM-judge grades; with a client, the judge is asked for missing pairs (at most
    `max_calls`), and its answers are stored as suggestions like the Grade page's."""
    def grade(pairs: list[Pair]) -> dict[Pair, int]:
        def stored() -> dict[Pair, int]:
            rows = store.read("suggestions", where={"agent": agent, "grade": Not(None)}, columns=["query_id", "doc_id", "grade"])
            return {(q, d): int(g) for q, d, g in zip(rows["query_id"], rows["doc_id"], rows["grade"])}

        have = stored()
        missing = [p for p in pairs if p not in have][: max_calls if client is not None else 0]
        by_query: dict[str, list[str]] = {}
        for q, d in missing:
            by_query.setdefault(q, []).append(d)
        for q, docs in by_query.items():
            suggestions.llm_suggest(store, client, q, docs)
        have = stored() if by_query else have
        return {p: have[p] for p in pairs if p in have}

    return grade


# -- building a judge from its name ------------------------------------------------------------
def _run(store: Store, run_id: str, kinds: tuple[str, ...], source: str) -> dict:
    rows = store.read("runs", where={"run_id": run_id}, columns=["run_id", "kind", "status", "model_path"])
    if rows.empty or rows["status"].iloc[0] != RunStatus.succeeded.value:
        raise InputError(f"judge '{source}' expects a succeeded run '{run_id}', but there is none; list runs with `flywheel runs`")
    row = rows.iloc[0].to_dict()
    if row["kind"] not in kinds:
        raise InputError(f"judge '{source}' expects a run of kind {' or '.join(kinds)}, but '{run_id}' is a {row['kind']} run")
    if not row["model_path"] or not Path(row["model_path"]).exists():
        raise InputError(f"judge '{source}' expects the run's model folder, but '{row['model_path']}' is gone")
    return row


def make(store: Store, source: str, *, client: LLMClient | None = None, max_calls: int = 200,
         pipeline: Callable[[str], Any] | None = None) -> Judge:
    """The judge a source names: llm (or llm:<agent>), cross-encoder:RUN, bi-encoder:RUN, pipeline:RUN, retriever.
    `pipeline(run_folder)` loads a run's pipeline (core.training.pipeline.load_pipeline, passed in from above)."""
    kind, _, run_id = source.partition(":")
    evals = set(metrics.eval_query_ids(store))
    if kind == "llm":
        agent = source if run_id else (f"llm:{client.name}@{suggestions.PROMPT_VERSION}" if client is not None else _stored_llm_agent(store))
        return Judge(source, "llm", llm_grader(store, agent, client, max_calls),
                     "scored on every pair people graded: it never trained on this workspace")
    if kind == "retriever" and not run_id:
        grader = mapped_grader(store, cosine_scorer(store, Embedder(None)), "the retriever's")
        return Judge(source, kind, grader, "scored on eval-split queries only: its score map is fitted on the train split", evals)
    if kind not in KINDS or not run_id:
        raise InputError(f"a judge expects one of llm, cross-encoder:RUN, bi-encoder:RUN, pipeline:RUN or retriever, but got '{source}'")
    if kind == "cross-encoder":
        row = _run(store, run_id, (RunKind.cross_encoder.value,), source)
        return Judge(source, kind, cross_encoder_grader(store, suggestions.load_cross_encoder(row["model_path"])), HELD_OUT, evals, run_id)
    if kind == "bi-encoder":
        row = _run(store, run_id, (RunKind.bi_encoder.value, RunKind.adapter.value), source)
        grader = mapped_grader(store, cosine_scorer(store, Embedder(row["model_path"])), f"run {run_id}'s cosine")
        return Judge(source, kind, grader, HELD_OUT, evals, run_id)
    if pipeline is None:
        raise InputError("a pipeline judge expects a pipeline loader, but got none; call it through `flywheel judges` or the app")
    row = _run(store, run_id, (RunKind.bi_encoder.value, RunKind.adapter.value, RunKind.cross_encoder.value), source)
    loaded = pipeline(str(Path(row["model_path"]).parent))
    grader = mapped_grader(store, ranked_scorer(store, loaded.rank), f"run {run_id}'s pipeline")
    return Judge(source, kind, grader, HELD_OUT, evals, run_id)


LLM_GRADES = {"agent": StartsWith("llm:"), "grade": Not(None)}  # an LLM judge's stored grades (agent "llm:<model>@<prompt>")


def _stored_llm_agent(store: Store) -> str:
    agents = store.read("suggestions", where=LLM_GRADES, columns=["agent"])["agent"]
    if agents.empty:
        raise InputError("the LLM judge expects stored LLM grades or a configured LLM, but got neither; set FLYWHEEL_LLM "
                         "(e.g. openai/gpt-4o-mini) and ask it, or pick a run's model as the judge")
    return str(agents.value_counts().index[0])


def sources(store: Store, llm: bool = False) -> list[str]:
    """Every judge this workspace can field: the LLM (configured or with stored grades), each succeeded run's models, the retriever."""
    out = ["llm"] if llm or store.count("suggestions", LLM_GRADES) else []
    runs = store.read("runs", where={"status": RunStatus.succeeded}, columns=["run_id", "kind", "model_path", "finished_at"])
    for row in runs.sort_values("finished_at", ascending=False).to_dict("records"):
        if not row["model_path"] or not Path(row["model_path"]).exists():
            continue
        if row["kind"] == RunKind.cross_encoder.value:
            out.append(f"cross-encoder:{row['run_id']}")
        elif row["kind"] in (RunKind.bi_encoder.value, RunKind.adapter.value):
            out.append(f"bi-encoder:{row['run_id']}")
        if (Path(row["model_path"]).parent / "pipeline.json").exists():
            out.append(f"pipeline:{row['run_id']}")
    return out + ["retriever"]


# -- agreement ---------------------------------------------------------------------------------
@dataclass
class Agreement:
    judge: str
    held_out: str
    pairs: int = 0
    queries: int = 0
    kappa: float | None = None  # quadratic-weighted, on the queries' scales
    kappa_binary: float | None = None  # at the positive threshold (the top band of each query's scale)
    base_rate: float | None = None  # share of people's grades that are positives
    judge_rate: float | None = None  # share of the judge's grades that are positives
    exact: float | None = None
    within_one: float | None = None
    mae: float | None = None
    confusion: list[list[int]] = field(default_factory=list)  # rows: people's grade 0..5, columns: the judge's
    tau: float | None = None  # Kendall tau between the systems' order under its grades and under people's
    systems: int = 0
    metric: str = metrics.VALIDATION_METRIC
    left_out_accepted: int = 0  # grades accepted from a suggestion, not in the reference
    ungraded: int = 0  # pairs people graded that the judge has no grade for (the LLM judge, not asked)

    def as_dict(self) -> dict:
        out = asdict(self)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}

    def words(self) -> str:
        if not self.pairs:
            return "No pair it may be scored on has a grade from people yet."
        return (f"Agrees with people {self.within_one:.0%} within one grade ({self.exact:.0%} exactly) on {self.pairs} pairs "
                f"of {self.queries} queries; {self.held_out}.")


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) == 0 or (len(set(a)) < 2 and len(set(b)) < 2):
        return None
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(a, b)
    return None if np.isnan(value) else float(value)


def agreement(store: Store, judge: Judge, *, include_imports: bool = False, metric: str = metrics.VALIDATION_METRIC,
              relevant_grade: int = 1) -> Agreement:
    """The judge against people's grades on the pairs it may be scored on."""
    labels, accepted = reference(store, include_imports)
    labels = labels[labels["query_id"].isin(judge.allowed(set(labels["query_id"])))]
    out = Agreement(judge.name, judge.held_out, metric=metric, left_out_accepted=accepted)
    graded = judge.grades(zip(labels["query_id"], labels["doc_id"]))
    rows = labels.assign(judge=[graded.get((q, d)) for q, d in zip(labels["query_id"], labels["doc_id"])])
    out.ungraded = int(rows["judge"].isna().sum())
    rows = rows.dropna(subset=["judge"])
    if rows.empty:
        return out
    people = rows["grade"].to_numpy(int)
    model = np.array([on_scale(g, t) for g, t in zip(rows["judge"], rows["top"])])
    positive = np.array([Scale(int(t)).positive for t in rows["top"]])
    diff = np.abs(people - model)
    out.pairs, out.queries = len(rows), rows["query_id"].nunique()
    out.kappa = quadratic_kappa(people, model)
    out.kappa_binary = _kappa(people >= positive, model >= positive)
    out.base_rate, out.judge_rate = float(np.mean(people >= positive)), float(np.mean(model >= positive))
    out.exact, out.within_one, out.mae = float(np.mean(diff == 0)), float(np.mean(diff <= 1)), float(diff.mean())
    out.confusion = confusion_matrix(people, model, labels=list(range(FLYWHEEL_TOP + 1))).tolist()
    out.tau, out.systems = system_tau(store, judge, labels, metric, relevant_grade)
    return out


def stored_systems(store: Store, query_ids: Iterable[str]) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Every stored ranking of these queries, by system ('run/stage'): each run's ladder rungs, before and after."""
    import json

    rows = store.read("query_results", where={"query_id": list(query_ids)}, columns=["run_id", "stage", "query_id", "ranking"])
    out: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for run, stage, q, ranking in zip(rows["run_id"], rows["stage"], rows["query_id"], rows["ranking"]):
        out.setdefault(f"{run}/{stage}", {})[q] = [(d, float(s)) for d, s in json.loads(ranking)]
    return out


def per_query(qrels: Mapping[str, Mapping[str, int]], rankings: Mapping[str, list[tuple[str, float]]], query_ids: list[str],
              metric: str, relevant_grade: int) -> np.ndarray:
    """`metric` of each query, 0 where it has no relevant document (the queries' mean then counts every query)."""
    _, values = metrics.compute({q: dict(qrels.get(q, {})) for q in query_ids}, rankings, relevant_grade)
    return np.array([values.get(q, {}).get(metric, 0.0) for q in query_ids])


def judge_qrels(judge: Judge, rankings: Iterable[Mapping[str, list[tuple[str, float]]]], query_ids: list[str], k: int,
                also: Mapping[str, Iterable[str]] | None = None, tops: Mapping[str, int] | None = None) -> dict[str, dict[str, int]]:
    """The judge's grades of the pool: each ranking's top k for each query (and `also`'s documents), on the queries' scales."""
    pool = {(q, d) for ranking in rankings for q in query_ids for d, _ in ranking.get(q, [])[:k]}
    pool |= {(q, d) for q, docs in (also or {}).items() if q in set(query_ids) for d in docs}
    graded = judge.grades(pool)
    if len(graded) < len(pool):
        raise InputError(f"judge '{judge.name}' expects to grade every document in the pool, but graded {len(graded)} of {len(pool)}; "
                         "for the LLM judge pass --ask (it calls the model for the rest)")
    out: dict[str, dict[str, int]] = {q: {} for q in query_ids}
    for (q, d), g in graded.items():
        out[q][d] = on_scale(g, (tops or {}).get(q, FLYWHEEL_TOP))
    return out


def system_tau(store: Store, judge: Judge, labels: pd.DataFrame, metric: str, relevant_grade: int) -> tuple[float | None, int]:
    """Kendall tau between the stored systems' means of `metric` under the judge's grades and under people's."""
    queries = judge.allowed(set(labels["query_id"]))
    systems = stored_systems(store, queries)
    common = sorted(set(queries).intersection(*[set(r) for r in systems.values()])) if systems else []
    if len(systems) < MIN_SYSTEMS or not common:
        return None, len(systems)
    people = qrels_of(labels)
    tops = dict(zip(labels["query_id"], labels["top"]))
    k = int(metric.split("@")[1])
    try:
        graded = judge_qrels(judge, systems.values(), common, k, {q: people.get(q, {}) for q in common}, tops)
    except InputError:
        return None, len(systems)
    human = [per_query(people, r, common, metric, relevant_grade).mean() for r in systems.values()]
    model = [per_query(graded, r, common, metric, relevant_grade).mean() for r in systems.values()]
    tau = kendalltau(human, model).statistic
    return (None if np.isnan(tau) else float(tau)), len(systems)

