"""Judges beside people (the Agreement page) and prediction-powered estimates (the Results page).

Scoring a judge loads its model and grades hundreds of pairs, so both sections compute on a
button and cache the answer per workspace state (the tables' versions): a new grade or run
computes afresh, a rerun of the page does not.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import FlywheelError
from core.evaluation import judges, metrics
from core.labeling import audit
from core.labeling.labels import GRADE_MEANINGS
from ui.common import settings, show_error, store

WHY_RANDOM = ("The audit sample is a **random** order of the queries in scope (Grade → 'audit sample'), graded in full in that "
              "order: the estimate is valid only on a random sample, so a query skipped as hard holds the ones after it back.")


def _versions() -> tuple:
    db = store()
    return tuple(db.version(name) for name in ("judgments", "suggestions", "runs", "query_results", "queries"))


def _judge(source: str) -> judges.Judge:
    from core.training.pipeline import load_pipeline

    db = store()
    return judges.make(db, source, pipeline=lambda folder: load_pipeline(folder, db))


@st.cache_data(show_spinner="Scoring the judge against people's grades…", max_entries=32)
def _agreement(uri: str, source: str, include_imports: bool, versions: tuple) -> dict:
    return judges.agreement(store(), _judge(source), include_imports=include_imports, relevant_grade=settings().relevant_grade).as_dict()


@st.cache_data(show_spinner="Ranking every query in scope and grading the rankings with the judge…", max_entries=32)
def _estimate(uri: str, run_id: str, source: str, metric: str, scope: str, against: str, include_imports: bool, versions: tuple) -> dict:
    from core.training import estimates

    return estimates.estimate(store(), run_id, _judge(source), metric=metric, scope=scope, against=against,
                              include_imports=include_imports, relevant_grade=settings().relevant_grade)


def _fmt(value, pattern: str = "{:.2f}") -> str:
    return "–" if value is None else pattern.format(value)


def judges_section(include_imports: bool) -> None:
    """Each judge against people's grades: κ, binary κ with the base rate, MAE, Kendall τ, confusion."""
    st.subheader("Judges")
    st.caption("How far to trust each source of pre-grades, on the pairs people graded. A model fitted on this workspace is "
               "scored on eval-split queries only. For scale: an LLM judge against TREC assessors reaches κ ≈ 0.3–0.4 on 4 "
               "levels and 0.4–0.5 binary, yet ranks systems at Kendall τ ≈ 0.9 (TREC RAG 2024).")
    db = store()
    try:
        sources = judges.sources(db)
    except FlywheelError as error:
        show_error(error)
        return
    picked = st.multiselect("Judges to score", sources, default=[s for s in sources if s != "retriever"][:2], key="a_judges")
    if not picked or not st.toggle("Score them", key="a_judges_on", help="Loads each judge's model and grades the pairs: seconds to minutes."):
        return
    for source in picked:
        try:
            found = _agreement(db.uri, source, include_imports, _versions())
        except FlywheelError as error:
            st.warning(f"**{source}**: {error}")
            continue
        st.markdown(f"**{source}** · " + judges.Agreement(**found).words())
        if not found["pairs"]:
            continue
        cols = st.columns(5)
        cols[0].metric("κ (quadratic)", _fmt(found["kappa"]))
        cols[1].metric("κ (relevant or not)", _fmt(found["kappa_binary"]),
                       help=f"At the positive threshold (the top band of each query's scale). People call {_fmt(found['base_rate'], '{:.0%}')} "
                            f"of these pairs relevant, the judge {_fmt(found['judge_rate'], '{:.0%}')}: with rare positives κ reads low.")
        cols[1].caption(f"base rate {_fmt(found['base_rate'], '{:.0%}')}")
        cols[2].metric("Mean absolute error", _fmt(found["mae"]), help="In grades, on the 0–5 scale")
        cols[3].metric("Within one grade", _fmt(found["within_one"], "{:.0%}"))
        cols[4].metric("Kendall τ of systems", _fmt(found["tau"]),
                       help=f"The {found['systems']} stored rankings (each run's ladder rungs, before and after) ordered by "
                            f"{found['metric']} under its grades and under people's; needs {judges.MIN_SYSTEMS}.")
        with st.expander("Confusion: people's grade (rows) × the judge's (columns)"):
            names = [f"{g} {GRADE_MEANINGS[g].split(':')[0]}" for g in GRADE_MEANINGS]
            st.dataframe(pd.DataFrame(found["confusion"], index=names, columns=[str(g) for g in GRADE_MEANINGS]))
        if found["left_out_accepted"]:
            st.caption(f"{found['left_out_accepted']} grades accepted from a suggestion are left out (they would count a judge against itself).")


def estimate_section(runs: list[str]) -> None:
    """A run's metric over every query in scope: PPI++ from a judge and the audit sample, beside the audit sample alone."""
    st.subheader("Estimate with a judge")
    st.caption("A judge's grades on every query in scope, corrected by people's grades on the audit sample (prediction-powered "
               "inference, PPI++): an unbiased estimate with a valid 95% interval, usually narrower than people's sample alone. "
               + WHY_RANDOM)
    db = store()
    if not runs:
        st.caption("No run ships a pipeline yet.")
        return
    cols = st.columns(5)
    run_id = cols[0].selectbox("Run", runs, key="e_run")
    sources = judges.sources(db)
    source = cols[1].selectbox("Judge", sources, key="e_judge")
    metric = cols[2].selectbox("Metric", [m for m in metrics.SUMMARY], index=list(metrics.SUMMARY).index(metrics.VALIDATION_METRIC), key="e_metric")
    scope = cols[3].selectbox("Queries", list(audit.SCOPES), format_func=audit.SCOPES.get, key="e_scope")
    against = cols[4].selectbox("Change against", ["", "base", *[r for r in runs if r != run_id]], key="e_against",
                                format_func=lambda r: {"": "(none: the run alone)", "base": "the base model"}.get(r, r))
    include = st.toggle("Count imported qrels as people's grades", value=False, key="e_imports",
                        help="Imported judgments then count as graded in full, e.g. on the demo.")
    st.caption(audit.audit(db, scope, include_imports=include).progress_line())
    if not st.toggle("Estimate", key="e_on", help="Ranks every query in scope with the run's pipeline and grades the top results with the judge."):
        return
    try:
        found = _estimate(db.uri, run_id, source, metric, scope, against, include, _versions())
    except FlywheelError as error:
        show_error(error)
        return
    what = f"{metric} change against {against}" if against else metric
    ppi, classical = found["ppi"], found["classical"]
    cols = st.columns(3)
    if found["used_ppi"]:
        cols[0].metric(f"{what}, judge + audit (PPI++)", f"{ppi['estimate']:.3f}", help=f"95% CI {ppi['low']:.3f} to {ppi['high']:.3f}")
        cols[0].caption(f"95% CI {ppi['low']:.3f} to {ppi['high']:.3f}, over {found['queries']} queries")
    cols[1].metric(f"{what}, audit sample alone", f"{classical['estimate']:.3f}")
    cols[1].caption(f"95% CI {classical['low']:.3f} to {classical['high']:.3f}, {found['audit_queries']} queries graded by people")
    if found["used_ppi"]:
        cols[2].metric("Worth this many human-graded queries", f"{found['effective_queries']:.0f}",
                       help="audit queries × (classical width / PPI width)²")
    (st.success if found["used_ppi"] else st.info)(found["note"])
    st.caption(f"Judge {found['judge']}: {found['held_out']}." + (f" {found['accepted_suggestions_in_audit']} audit grades were accepted "
               "from a suggestion (counted)." if found["accepted_suggestions_in_audit"] else ""))
