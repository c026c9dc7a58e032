"""Results: did retrieval get better, by how much, is it real, and where did it get worse?"""

from __future__ import annotations

import functools

import streamlit as st

from core.errors import FlywheelError
from core.evaluation import charts, production, report, results
from core.storage.auth import Action
from core.storage.spreadsheet import spreadsheet_csv
from core.training import estimates, jobs
from ui import auth, common, curve_view, errors, judges_view
from ui import results_view as view

st.title("Results")
store = common.store()
all_runs = results.runs_frame(store)
runs = results.runs_with_results(store, all_runs)
for training_now in all_runs[all_runs["status"].isin(jobs.ACTIVE)]["run_id"]:
    st.caption(f"Run `{training_now}` is still training (progress on the Train page); its results appear here when it ends.")
if runs.empty:
    st.info("No evaluated run yet. Launch a training run on the Train page: its before/after results appear here.")
    st.stop()

run_id = view.run_picker(runs)
try:
    data = results.load_run(store, run_id)
    metric, stage = view.metric_chooser(data)
    head = results.headline(data, metric, stage)
    per_k = results.per_k_table(data, stage)
    per_query = results.per_query(data, metric, stage)
except FlywheelError as error:
    common.show_error(error)
    st.stop()

steps = results.pipeline_ladder(data, metric)
if steps:  # lead with what the labels bought over the best pipeline that needs none
    view.ladder(steps, head["metric"])
view.headline(head)
label = head["metric"]
logged = production.compare(store, data, metric, stage, common.settings().relevant_grade)
if not logged.empty:
    st.dataframe(logged.rename(columns={"value": label}), hide_index=True, column_config={label: st.column_config.NumberColumn(format="%.3f")})
    st.caption("Production: the rankings your RAG app logged (Logs page), scored on the eval queries it logged, beside this run.")
# Stateful tabs: only the open one is computed and drawn (each chart costs plotly ~0.1–0.3 s).
charts_tab, compare_tab, drill_tab, export_tab = st.tabs(view.TABS, key="results_tab", on_change="rerun")


def charts_section() -> None:
    st.plotly_chart(charts.per_k_bars(per_k), config=view.PLOTLY_CONFIG, key="chart_per_k")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.metric_curve(results.curve(data, "recall"), data.stages, "recall"), config=view.PLOTLY_CONFIG,
                        key="chart_curve")
    with right:
        st.plotly_chart(charts.first_rank_bars(results.first_rank_distribution(data, stage), [results.BEFORE, stage]),
                        config=view.PLOTLY_CONFIG, key="chart_ranks")
    st.plotly_chart(charts.per_query_scatter(per_query, label), config=view.PLOTLY_CONFIG, key="chart_scatter")
    st.caption("Each dot is a group of eval queries with the same scores (bigger = more queries): above the diagonal "
               "they improved, below it they got worse. Every chart's toolbar downloads it as PNG.")


@st.fragment
@errors.guarded("Results, Compare runs")
def compare_section() -> None:
    """Its own fragment: choosing runs reruns only this section."""
    same_set = runs[runs["snapshot_hash"] == data.run.get("snapshot_hash", "")]["run_id"].tolist()
    chosen = st.multiselect("Runs to compare (the first one sets the eval set)", runs["run_id"].tolist(),
                            default=[run_id] + [r for r in same_set if r != run_id][:5], key="results_compare")
    try:
        frame = results.compare_runs(store, chosen, metric)
        curve = results.learning_curve(store, chosen, metric)
    except FlywheelError as error:
        common.show_error(error)
        return
    if frame.empty:
        return
    other = frame[~frame["same_eval_set"]]["run_id"].tolist()
    if other:
        st.warning(f"Not compared: {', '.join(other)} {'was' if len(other) == 1 else 'were'} evaluated on a different "
                   f"eval set than {chosen[0]}, so the numbers are not comparable. They are listed but left out of the chart.",
                   icon=":material/warning:")
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "before": st.column_config.NumberColumn(format="%.3f"), "after": st.column_config.NumberColumn(format="%.3f"),
        "delta": st.column_config.NumberColumn(format="%+.3f"),
        "same_eval_set": st.column_config.CheckboxColumn("same eval set")})
    comparable = frame[frame["same_eval_set"] & frame["after"].notna()]
    st.plotly_chart(charts.compare_bars(comparable, label), config=view.PLOTLY_CONFIG, key="chart_compare")
    if curve["train_pairs"].nunique() > 1:
        st.plotly_chart(charts.learning_curve(curve, label), config=view.PLOTLY_CONFIG, key="chart_learning")
    else:
        st.caption("Learning curve: select runs on this eval set trained on different amounts of data.")
    st.download_button("Run comparison (CSV)", spreadsheet_csv(frame), file_name="run-comparison.csv", mime="text/csv",
                       on_click="ignore")


@st.fragment
@errors.guarded("Results, Drill-down")
def drill_section() -> None:
    """Its own fragment: switching regressed/improved reruns only this section."""
    direction = st.segmented_control("Show", ["regressed", "improved"], default="regressed", key="results_direction",
                                     format_func=lambda d: f"{d.capitalize()} most", required=True) or "regressed"
    try:
        items = results.drill_down(store, data, metric, direction=direction, n=5, stage=stage,
                                   relevant_grade=common.settings().relevant_grade)
    except FlywheelError as error:
        common.show_error(error)
        items = []
    if not items:
        st.write(f"No eval query {direction} on {label}.")
    for i, item in enumerate(items):
        view.drill_item(item, i, expanded=i == 0)
    st.markdown(f"**All eval queries** ({label})")
    st.dataframe(per_query, hide_index=True, width="stretch", column_config={
        "before": st.column_config.NumberColumn(format="%.3f"), "after": st.column_config.NumberColumn(format="%.3f"),
        "delta": st.column_config.NumberColumn(format="%+.3f"),
        "rank_before": st.column_config.NumberColumn("first relevant rank before", help="0 = not in the top 20"),
        "rank_after": st.column_config.NumberColumn("first relevant rank after", help="0 = not in the top 20")})


if charts_tab.open:
    with charts_tab:
        charts_section()
if compare_tab.open:
    with compare_tab:
        compare_section()
if drill_tab.open:
    with drill_tab:
        drill_section()

with export_tab:  # cheap: the HTML report is built only when its button is clicked
    if not auth.can(Action.report):
        auth.explain(Action.report, "Reports and downloads")
    else:
        st.write("A one-page HTML report (headline, charts, configuration, data counts) opens in any browser without the app.")
        st.download_button("HTML report", functools.partial(report.render_report, store, run_id, metric), icon=":material/description:",
                           file_name=f"flywheel-report-{run_id}.html", mime="text/html", type="primary", on_click="ignore")
        st.download_button("All metrics (CSV)", spreadsheet_csv(per_k), file_name=f"{run_id}-metrics.csv", mime="text/csv",
                           on_click="ignore")
        st.download_button(f"Per query, {label} (CSV)", spreadsheet_csv(per_query), file_name=f"{run_id}-per-query.csv",
                           mime="text/csv", on_click="ignore")
        st.caption(f"Same report from the command line: `flywheel report {run_id} --out report.html`")

curve_view.section(store, common.settings(), common.user())
judges_view.estimate_section(estimates.shipped_runs(store))
