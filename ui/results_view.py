"""Streamlit widgets of the Results page (and the headline Home can reuse)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.evaluation import charts, metrics, results
from core.storage.auth import Action
from ui import auth
from ui.grading import TARGET as GRADE_TARGET
from ui.safe_text import code, escape, see_all

TABS = [":material/bar_chart: Charts", ":material/compare_arrows: Compare runs", ":material/search: Drill-down",
        ":material/download: Export"]
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
# The run's one verdict sets the box, its icon and the colour of the headline card's change.
VERDICT = {
    results.Outcome.improvement: (st.success, ":material/check_circle:", "green"),
    results.Outcome.tradeoff: (st.warning, ":material/balance:", "orange"),
    results.Outcome.regression: (st.error, ":material/trending_down:", "red"),
    results.Outcome.unclear: (st.info, ":material/help:", "gray"),
}


def run_label(row: pd.Series) -> str:
    when = pd.Timestamp(row["finished_at"] if pd.notna(row.get("finished_at")) else row["created_at"]).strftime("%Y-%m-%d %H:%M")
    name = row.get("name") or row["run_id"]
    tags = f" [{row['tags']}]" if row.get("tags") else ""
    return f"{name}{tags} · {row['kind']} · {results.model_name(row['base_model'])} · {when}"


def run_picker(runs: pd.DataFrame) -> str:
    """Choose the run; the Train page can preselect one through st.session_state['results_run_id']."""
    labels = {row["run_id"]: run_label(row) for _, row in runs.iterrows()}
    ids = list(labels)
    if st.session_state.get("results_run_id") not in ids:
        st.session_state["results_run_id"] = ids[0]
    return st.selectbox("Run", ids, format_func=labels.get, key="results_run_id")


def metric_chooser(data: results.RunData) -> tuple[str, str]:
    """The headline metric (default recall@10) and, when a run has several, the stage compared with 'before'."""
    stages = [s for s in data.stages if s != results.BEFORE]
    with st.container(horizontal=True, gap="large"):
        name = st.segmented_control("Metric", list(metrics.NAMES), default="recall", format_func=metrics.LABELS.get,
                                    key="results_metric", required=True)
        k = st.segmented_control("At k", list(metrics.KS), default=10, format_func=lambda v: f"@{v}", key="results_k", required=True)
        stage = (st.selectbox("Compared with before", stages, key="results_stage", width=220) if len(stages) > 1
                 else data.default_stage)
    return f"{name or 'recall'}@{k or 10}", stage


def ladder(steps: dict, metric_label: str) -> None:
    """The shipped pipeline against every rung a team could ship instead, first on the page."""
    if steps["sentence"]:
        st.subheader(escape(steps["sentence"], None))
    st.plotly_chart(charts.ladder_bars(steps["rungs"], steps["shipped"], metric_label), config=PLOTLY_CONFIG, key="chart_ladder")
    describe = steps["pipeline"].get("describe", "")
    st.caption(f"Ships: {escape(describe)}. Grey pipelines need no labels. Fusion weights were chosen on validation "
               "queries, never on the eval queries scored here; bars show 95% intervals over eval queries.")


def headline(head: dict) -> None:
    """Before → after in big numbers, then what improved and what got worse in plain words, coloured by what it means."""
    cols = st.columns([1, 1, 1.5, 0.8])  # the interval is the longest value: give it the room
    rel = f" ({head['rel_change']:+.0%})" if head["rel_change"] is not None else ""
    changed = abs(head["delta"]) >= 0.0005  # "+0.000" gets no arrow
    cols[0].metric(f"{head['metric']} before", f"{head['before']:.3f}", border=True)
    box, icon, colour = VERDICT[results.Outcome(head["outcome"])]
    cols[1].metric(f"{head['metric']} after", f"{head['after']:.3f}", delta=f"{head['delta']:+.3f}{rel}" if changed else None,
                   delta_color=colour, border=True)  # a trade-off's gain is amber, not green
    cols[2].metric("95% CI of the change", f"{head['ci_low']:+.2f}…{head['ci_high']:+.2f}", border=True,
                   help="Paired bootstrap over eval queries: the range the true change most likely lies in.")
    cols[3].metric("p-value", f"{head['p_value']:.3g}", border=True,
                   help="Paired randomization test: the chance of a change this large if training changed nothing.")
    box(f"{head['summary']}  \n{head['verdict']}", icon=icon)
    st.caption(f"Run {escape(head.get('name') or head['run_id'])} ({head['kind']}, {escape(head['model'])}) · before vs {head['stage']} · "
               f"{head['n']} eval queries")


def focus_doc(item: dict) -> str | None:
    """The document to open first on Grade: the highest ungraded result after, else the top relevant one."""
    ungraded = item["top_after"][item["top_after"]["grade"].isna()]["doc_id"].tolist()
    if ungraded:
        return ungraded[0]
    return item["relevant"]["doc_id"].iloc[0] if not item["relevant"].empty else None


def _send_to_grade(item: dict) -> None:
    st.session_state["grade_query_id"] = item["query_id"]
    st.session_state[GRADE_TARGET] = (item["query_id"], focus_doc(item))  # the Grade page's own hand-off


def _ungraded_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Show ungraded documents with an empty grade cell rather than 'None'."""
    return frame.assign(grade=[("" if pd.isna(g) else str(g)) for g in frame["grade"]])


def drill_item(item: dict, index: int, expanded: bool) -> None:
    """One regressed/improved query: relevant docs, top results before and after, and the hand-off to Grade."""
    title = f"{escape(item['query'] or item['query_id'])} · {item['before']:.2f} → {item['after']:.2f} ({item['delta']:+.2f})"
    with st.expander(title, expanded=expanded):
        st.caption(f"Query {code(item['query_id'])} · first relevant rank {item['rank_before'] or '–'} → {item['rank_after'] or '–'}",
                   help=see_all(item["query"], item["query_id"]))
        st.markdown("**Relevant documents**")
        if item["relevant"].empty:
            st.write("No document graded relevant: grade this query's candidates.")
        else:
            st.dataframe(item["relevant"], hide_index=True, width="stretch")
        before, after = st.columns(2)
        config = {"grade": st.column_config.TextColumn("grade", help="median reviewer grade 0–5; empty = not graded", width="small"),
                  "rank": st.column_config.NumberColumn("rank", width="small"),
                  "score": st.column_config.NumberColumn(format="%.3f")}
        # Grade next to the rank: in half-width tables a long title pushed it out of view.
        order = ["rank", "grade", "title", "score", "doc_id"]
        before.markdown("**Top results before**")
        before.dataframe(_ungraded_blank(item["top_before"]), hide_index=True, column_config=config, column_order=order,
                         width="stretch")
        after.markdown("**Top results after**")
        after.dataframe(_ungraded_blank(item["top_after"]), hide_index=True, column_config=config, column_order=order,
                        width="stretch")
        if auth.can(Action.grade) and st.button("Grade more for this query", key=f"results_grade_{index}_{item['query_id']}",
                                                 icon=":material/edit:"):  # a viewer reads; the Grade page would refuse them
            _send_to_grade(item)
            st.switch_page("pages/grade.py")
