"""Results page section 'What more labels will buy': the learning curve, its backtested projection, and
what to label next. Home reuses the cached summary for its next step."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import FlywheelError
from core.evaluation import ladder, metrics
from core.evaluation.results import metric_label
from core.labeling.grading import Strategy
from core.settings import Settings
from core.storage.auth import Action, User
from core.storage.schemas import RunKind, RunStatus
from core.storage.store import Store
from core.training import curve, depth, guidance, jobs
from ui import errors
from ui.common import show_error
from ui.grading import LINKED as GRADE_LINKED
from ui.grading import STRATEGY as GRADE_STRATEGY
from ui.grading import segment_link

GRADE_PAGE = Path(__file__).resolve().parent.parent / "pages" / "grade.py"
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
POLL_S = 2.0
POINT, FIT, PROJECTED, BACKTEST, BASE = "#1f77b4", "#1f77b4", "#ff7f0e", "#9467bd", "#9aa5b1"


@st.cache_data(show_spinner=False, max_entries=64)
def summary(_store: Store, run_id: str, metric: str, uri: str) -> dict:
    """The fitted curve of a stored run (its points never change, so workspace, run id and metric are the key)."""
    return curve.summarize(_store, run_id, metric)


def fresh_summary(store: Store, settings: Settings, metric: str = curve.DEFAULT_METRIC) -> dict | None:
    """The default (adapter) curve on today's labels, if one is stored."""
    run_id = curve.find(store, settings, curve.CurveConfig())
    return summary(store, run_id, metric, store.uri) if run_id else None


def next_step(store: Store, settings: Settings) -> str | None:
    """Home's next step from the curve on today's labels; until one is measured, the invitation to measure it."""
    try:
        found = fresh_summary(store, settings)
    except FlywheelError:
        return None
    return curve.next_step(found) or ("See what more labels will buy: measure the learning curve at the bottom of the Results page "
                                      "(seconds with the adapter).")


def figure(result: dict) -> go.Figure:
    """Measured points, the fit with its band, the projection and the backtest, against train queries."""
    label = metric_label(result["metric"])
    band = pd.DataFrame(result["band"])
    fig = go.Figure()
    fig.add_scatter(x=list(band["train_queries"]) + list(band["train_queries"])[::-1], y=list(band["high"]) + list(band["low"])[::-1],
                    fill="toself", fillcolor="rgba(31,119,180,0.15)", line={"width": 0}, hoverinfo="skip", name="95% band")
    fig.add_scatter(x=band["train_queries"], y=band["value"], mode="lines", line={"color": FIT}, name="fit a − b·n^−c")
    points = pd.DataFrame(result["points"])
    fig.add_scatter(x=points["train_queries"], y=points["value"], mode="markers", marker={"color": POINT, "size": 10},
                    error_y={"type": "data", "array": points["seed_std"].fillna(0), "visible": True}, name="measured (mean of seeds)")
    projection = pd.DataFrame(result["projection"])
    fig.add_scatter(x=projection["train_queries"], y=projection["value"], mode="markers", marker={"color": PROJECTED, "size": 10, "symbol": "diamond"},
                    error_y={"type": "data", "symmetric": False, "array": projection["high"] - projection["value"],
                             "arrayminus": projection["value"] - projection["low"]},
                    text=[f"{m:g}x today" for m in projection["multiplier"]], name="projected (1.5x, 2x, 4x)")
    back = result["backtest"]
    if back.get("predicted") is not None:
        fig.add_scatter(x=[back["train_queries"]], y=[back["predicted"]], mode="markers", marker={"color": BACKTEST, "size": 12, "symbol": "x"},
                        name=f"backtest: predicted from smaller subsets (error {back['error']:.3f})")
    if result.get("base") is not None:
        fig.add_hline(y=result["base"], line={"dash": "dot", "color": BASE}, annotation_text=f"base model {result['base']:.3f}")
    for name, value in (result.get("baselines") or {}).items():  # what needs no labels: the curve has to clear these
        fig.add_hline(y=value, line={"dash": "dash", "color": BASE}, annotation_text=f"{ladder.LABELS[name]} {value:.3f}",
                      annotation_position="bottom right")
    fig.update_layout(xaxis_title="train queries", yaxis_title=label, height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2})
    return fig


def _go_grade() -> None:
    st.session_state[GRADE_STRATEGY] = Strategy.ungraded.value
    st.switch_page("pages/grade.py")


def _go_segment(segment: str) -> None:
    """The Grade page on one segment's queue, named in its URL (?queue=segment&segment=…); a link followed again applies again."""
    st.session_state.pop(GRADE_LINKED, None)
    st.switch_page("pages/grade.py", query_params=segment_link(segment))


def _progress(store: Store, run_id: str, actor: User) -> None:
    run = jobs.read_run(store, run_id)
    progress = run["progress"]
    st.progress(min(progress.get("step", 0) / (progress.get("total") or 100), 1.0),
                text=f"Learning curve `{run_id}` · {progress.get('phase', run['status'])} · ETA {progress.get('eta_s') or '–'} s")
    if st.button("Cancel curve", key=f"curve_cancel_{run_id}", icon=":material/stop:"):
        try:
            jobs.request_cancel(store, run_id, actor)
            st.toast("Cancel requested: the curve stops within a few seconds.")
        except FlywheelError as error:
            show_error(error)


def _launcher(store: Store, settings: Settings, actor: User, kind: str, busy: bool, stale: bool) -> None:
    label = "Re-run the learning curve" if stale else "Measure the learning curve"
    budget = 0.0
    if kind == RunKind.bi_encoder.value:
        budget = 60 * st.number_input("Time budget for the whole curve, minutes", 1.0, 600.0, 20.0, key="curve_budget")
    if st.button(label, icon=":material/show_chart:", disabled=busy or not actor.can(Action.train), key="curve_launch",
                 help="Trains on 25/50/75/100% of the train queries (several seeds for the adapter) and scores each on the eval set."):
        try:
            curve.launch(store, settings, curve.CurveConfig(kind=kind, time_budget_s=budget), actor=actor)
            st.rerun()
        except FlywheelError as error:
            show_error(error)


def _guidance(store: Store, run_id: str, metric: str, label: str) -> None:
    st.markdown("**What to label next**")
    points = curve.points(store, run_id)
    target = st.number_input("Wanted width of the 95% CI of the change", 0.005, 1.0, None, 0.005, format="%.3f", key="curve_ci_width",
                             placeholder="half of today's")
    need = guidance.eval_queries_for_width(points, metric, target)
    st.write(f"Today the change from the base model to today's labels ({need['change']:+.3f} {label}) has a 95% CI "
             f"{need['ci_low']:+.3f} to {need['ci_high']:+.3f} (width {need['ci_width']:.3f}) on {need['eval_queries']} eval queries. "
             f"A width of {need['target_width']:.3f} takes about **{need['eval_queries_needed']} eval queries** "
             f"({need['more_eval_queries']} more).")
    table = guidance.segments(store, points, metric)
    if table.empty:
        st.caption("The eval set has one source, origin and query style: no segment to compare.")
    else:
        st.caption("Eval-set segments, widest interval first: grade more queries where the interval is wide and the count small.")
        st.dataframe(table.drop(columns=["least_judged_query", "queue_segment"]), hide_index=True, width="stretch",
                     column_config={"ci_width": st.column_config.NumberColumn("95% CI width", format="%.3f"),
                                    metric: st.column_config.NumberColumn(label, format="%.3f")})
        for i, row in table.head(3).iterrows():
            if st.button(f"Grade eval queries in '{row['segment']}' (least judged first)", key=f"curve_seg_{i}", icon=":material/edit:",
                         disabled=not GRADE_PAGE.exists(),
                         help=f"Opens the Grade page on this segment's queue (?queue=segment&segment={row['queue_segment']})."):
                _go_segment(row["queue_segment"])  # in the script run, not a callback: st.navigation must know the pages first
    if st.button("Grade more train queries (ungraded first)", key="curve_grade_train", icon=":material/edit:", disabled=not GRADE_PAGE.exists()):
        _go_grade()


def comparison_figure(by_queries: dict, by_judgments: dict) -> go.Figure:
    """Both curves against judged pairs trained on: the metric per judgment, read at equal counts."""
    fig = go.Figure()
    for result, name, color in ((by_queries, f"by queries: {depth.DEPTH}", POINT), (by_judgments, f"by judgments: {depth.BREADTH}", PROJECTED)):
        points = pd.DataFrame(result["points"]).dropna(subset=["train_judgments"])
        fig.add_scatter(x=points["train_judgments"], y=points["value"], mode="lines+markers", name=name, line={"color": color},
                        error_y={"type": "data", "array": points["seed_std"].fillna(0), "visible": True})
    fig.update_layout(xaxis_title="judgments trained on", yaxis_title=metric_label(by_queries["metric"]), height=320,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "yanchor": "top", "y": -0.25})
    return fig


def _breadth_or_depth(store: Store, settings: Settings, actor: User, kind: str, metric: str, busy: bool) -> None:
    """The curve by judgments beside the curve by queries, when both are stored on today's labels; else the button to measure it."""
    st.markdown("**More queries, or more judgments per query?**")
    config = curve.CurveConfig(kind=kind)
    runs = {c.by: curve.find(store, settings, c) for c in (config, curve.counterpart(config))}
    if not all(runs.values()):
        st.caption("Re-running the curve with every train query and 25/50/75/100% of each one's judgments says which buys more per "
                   "judgment on this data: more queries judged shallowly, or fewer queries judged deeply.")
        if st.button("Measure the curve by judgments per query", key="curve_by_judgments", icon=":material/stacked_line_chart:",
                     disabled=busy or not runs[curve.BY[0]] or not actor.can(Action.train),
                     help="Needs the curve by queries on today's labels first."):
            try:
                curve.launch(store, settings, curve.counterpart(config), actor=actor)
                st.rerun()
            except FlywheelError as error:
                show_error(error)
        return
    by_queries, by_judgments = (summary(store, runs[b], metric, store.uri) for b in curve.BY)
    found = depth.compare(by_queries["points"], by_judgments["points"], metric_label(metric))
    (st.success if found["winner"] else st.info)(found["sentence"], icon=":material/balance:")
    st.plotly_chart(comparison_figure(by_queries, by_judgments), config=PLOTLY_CONFIG, key="chart_label_depth")


def section(store: Store, settings: Settings, actor: User) -> None:
    """The whole section; while a curve job runs it polls, like the Train page's progress panel."""
    st.subheader("What more labels will buy")
    active = jobs.active_run(store)
    curve_active = bool(active) and jobs.read_run(store, active)["kind"] == RunKind.curve.value

    @st.fragment(run_every=POLL_S if curve_active else None)
    @errors.guarded("learning curve")  # a fragment's rerun runs outside the page's frame
    def body() -> None:
        now_active = jobs.active_run(store)
        if curve_active and now_active != active:
            st.rerun()  # it ended: redraw once, without the timer
        left, right = st.columns(2)
        kind = left.segmented_control("Train at each point", list(curve.KINDS), default=RunKind.adapter.value, key="curve_kind",
                                      required=True) or RunKind.adapter.value
        names = list(metrics.ALL)
        metric = right.selectbox("Metric", names, index=names.index(curve.DEFAULT_METRIC), format_func=metric_label, key="curve_metric")
        try:
            run_id = curve.find(store, settings, curve.CurveConfig(kind=kind))
            runs = curve.curve_runs(store)
            done = runs[(runs["status"] == RunStatus.succeeded.value) & runs["config"].map(lambda c: c.get("kind") == kind and c.get("by", curve.BY[0]) == curve.BY[0])] if not runs.empty else runs
            shown = run_id or (None if done.empty else str(done["run_id"].iloc[0]))
            if curve_active:
                _progress(store, active, actor)
            else:
                _launcher(store, settings, actor, kind, busy=bool(now_active), stale=shown is not None)
            if shown is None:
                st.caption("No learning curve yet: it shows how the metric grows with the train queries and projects 1.5x, 2x and 4x "
                           "today's labels, with a backtest of that projection.")
                return
            if run_id is None:
                st.warning("The labels changed since this curve was measured: re-run it for today's labels.", icon=":material/update:")
            result = summary(store, shown, metric, store.uri)
            (st.success if result["informative"] else st.info)(result["sentence"], icon=":material/show_chart:")
            st.plotly_chart(figure(result), config=PLOTLY_CONFIG, key="chart_label_curve")
            back = result["backtest"]
            st.caption(f"{result['note']} Curve `{shown}` · {result['kind']} · {result['eval_queries']} eval queries · "
                       f"backtest predicted {back['predicted'] if back['predicted'] is not None else '–'} vs measured {back['actual']}.")
            _breadth_or_depth(store, settings, actor, kind, metric, busy=bool(now_active))
            _guidance(store, shown, metric, metric_label(metric))
        except FlywheelError as error:
            show_error(error)

    body()
