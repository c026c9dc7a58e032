"""Plotly figures over the frames of core.evaluation.results. Streamlit-free, so the HTML report and
the page draw the very same pictures (and the modebar offers PNG export in both).

Built with graph_objects rather than plotly.express: px spends ~1 s per faceted figure
reshaping data, which a page rerun would pay every time.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.evaluation.metrics import KS, LABELS, NAMES
from core.evaluation.results import RANK_BUCKETS

BEFORE_COLOR = "#9aa5b1"
AFTER_COLOR = "#1f77b4"
EXTRA_COLORS = ["#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
CHANGE_COLORS = {"better": "#2ca02c", "worse": "#d62728", "same": "#9aa5b1"}
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13)
LABEL_SIZE = 12  # value labels on bars: the smallest text of a chart that is read, not only looked at


def stage_colors(stages: list[str]) -> dict[str, str]:
    colors = {"before": BEFORE_COLOR}
    extra = iter(EXTRA_COLORS)
    for stage in stages:
        if stage != "before":
            colors[stage] = AFTER_COLOR if stage == "after" else next(extra, AFTER_COLOR)
    return colors


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"), height=height, font=FONT, template="plotly_white",
        margin=dict(l=50, r=20, t=70, b=50), barmode="group",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1, title=None),
    )
    return fig


def per_k_bars(table: pd.DataFrame) -> go.Figure:
    """Grouped bars, before vs after, one panel per metric, k = 1…20 along each panel."""
    metrics = [m for m in NAMES if m in set(table["name"])]
    fig = make_subplots(rows=1, cols=max(len(metrics), 1), shared_yaxes=True, horizontal_spacing=0.02,
                        subplot_titles=[LABELS[m] for m in metrics])
    colors = stage_colors(["before", "after"])
    for col, name in enumerate(metrics, start=1):
        part = table[table["name"] == name].sort_values("k")
        x = [f"@{k}" for k in part["k"]]
        for stage in ("before", "after"):
            fig.add_trace(go.Bar(
                x=x, y=part[stage], name=stage, legendgroup=stage, showlegend=col == 1, marker_color=colors[stage],
                # Upright labels on 25 bar pairs run into each other ("0.670.67"): turn them to fit the bar.
                text=part[stage], texttemplate="%{y:.2f}", textposition="outside", textangle=-90, textfont_size=LABEL_SIZE,
                cliponaxis=False,
                hovertemplate=f"{LABELS[name]}%{{x}} {stage}: %{{y:.3f}}<extra></extra>",
            ), row=1, col=col)
    fig.update_yaxes(range=[0, 1.25], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], tickformat=".1f")
    fig.update_xaxes(categoryorder="array", categoryarray=[f"@{k}" for k in KS])
    _layout(fig, "Every metric at k = 1, 3, 5, 10, 20: before vs after", height=420)
    fig.update_layout(margin=dict(t=100), legend=dict(y=1.12))  # keep the legend clear of the panel titles
    # 10 px labels read as ~7 px digits on 50 bars (issue 24). Turned -90°, a label needs the bar's width only for its
    # height; and plotly may never shrink one below LABEL_SIZE to fit a narrow bar.
    fig.update_layout(uniformtext=dict(minsize=LABEL_SIZE, mode="show"))
    return fig


def metric_curve(frame: pd.DataFrame, stages: list[str], name: str = "recall") -> go.Figure:
    """metric@k as k grows, one line per stage (the recall@k curve)."""
    fig = go.Figure()
    colors = stage_colors(stages)
    for stage in stages:
        part = frame[frame["stage"] == stage].sort_values("k")
        fig.add_trace(go.Scatter(x=part["k"], y=part["value"], name=stage, mode="lines+markers", line_color=colors[stage],
                                 hovertemplate=f"{LABELS[name]}@%{{x}} {stage}: %{{y:.3f}}<extra></extra>"))
    fig.update_xaxes(title="k (results looked at)", type="log", tickvals=list(KS), ticktext=[str(k) for k in KS])
    fig.update_yaxes(title=f"{LABELS[name]}@k", range=[0, 1.02], tickformat=".1f")
    return _layout(fig, f"{LABELS[name]}@k: how much is found in the top k")


def per_query_scatter(frame: pd.DataFrame, metric_label: str) -> go.Figure:
    """Eval queries before (x) vs after (y); above the diagonal improved. Queries with identical
    scores share one bubble sized by their count (binary metrics pile up at 0 and 1)."""
    fig = go.Figure()
    for change in ("better", "same", "worse"):
        part = frame[frame["change"] == change]
        groups = part.groupby(["before", "after"], sort=True)["query_id"].agg(list).reset_index()
        counts = [len(ids) for ids in groups["query_id"]]
        names = [", ".join(ids[:6]) + (f" … +{len(ids) - 6}" if len(ids) > 6 else "") for ids in groups["query_id"]]
        fig.add_trace(go.Scatter(
            x=groups["before"], y=groups["after"], mode="markers", name=f"{change} ({len(part)})",
            marker=dict(size=[bubble(c) for c in counts], opacity=0.75, color=CHANGE_COLORS[change],
                        line=dict(width=0.5, color="white")), cliponaxis=False,
            customdata=list(zip(counts, names, strict=True)),
            hovertemplate="%{customdata[0]} queries: %{customdata[1]}<br>before %{x:.3f} → after %{y:.3f}<extra></extra>",
        ))
    fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line=dict(color="#666", dash="dot", width=1), layer="below")
    # Room for the biggest bubble at 0 or 1: its radius in axis units on a ~330 px square plot.
    biggest = max([bubble(n) for n in frame.groupby(["before", "after"]).size()] or [bubble(1)])
    pad = 0.04 + biggest / 2 / 330
    fig.update_xaxes(title=f"{metric_label} before", range=[-pad, 1 + pad], constrain="domain")
    fig.update_yaxes(title=f"{metric_label} after", range=[-pad, 1 + pad], scaleanchor="x", scaleratio=1)
    return _layout(fig, f"Per query: {metric_label} before vs after (above the diagonal = improved)", height=440)


def bubble(count: int) -> float:
    """Marker size in px for a group of `count` queries (area grows with the count)."""
    return 9 + 5 * count ** 0.5


def first_rank_bars(frame: pd.DataFrame, stages: list[str]) -> go.Figure:
    """Where the first relevant document lands: more queries at rank 1 is better."""
    fig = go.Figure()
    colors = stage_colors(stages)
    for stage in stages:
        part = frame[frame["stage"] == stage].set_index("bucket").reindex(list(RANK_BUCKETS))
        fig.add_trace(go.Bar(x=list(RANK_BUCKETS), y=part["count"], name=stage, marker_color=colors[stage], text=part["count"],
                             textposition="outside", cliponaxis=False,
                             hovertemplate=f"rank %{{x}} {stage}: %{{y}} queries<extra></extra>"))
    fig.update_xaxes(title="rank of the first relevant document")
    fig.update_yaxes(title="eval queries")
    return _layout(fig, "Rank of the first relevant document")


def compare_bars(frame: pd.DataFrame, metric_label: str) -> go.Figure:
    """Before and after per run, only runs on the same eval set (the caller filters)."""
    fig = go.Figure()
    names = frame["name"] if "name" in frame else frame["run_id"]
    runs = [f"{n} · {k}" for n, k in zip(names, frame["kind"], strict=True)]
    colors = stage_colors(["before", "after"])
    for stage in ("before", "after"):
        fig.add_trace(go.Bar(x=runs, y=frame[stage], name=stage, marker_color=colors[stage], texttemplate="%{y:.3f}",
                             textposition="outside", cliponaxis=False))
    fig.update_yaxes(title=metric_label, range=[0, 1.1])
    return _layout(fig, f"{metric_label} across runs (same eval set)")


def learning_curve(frame: pd.DataFrame, metric_label: str) -> go.Figure:
    """Metric after training vs number of training pairs, one line per run kind."""
    fig = go.Figure()
    for i, (kind, part) in enumerate(frame.groupby("kind", sort=True)):
        part = part.sort_values("train_pairs")
        fig.add_trace(go.Scatter(
            x=part["train_pairs"], y=part["after"], name=kind, mode="lines+markers", marker_size=11,
            line_color=([AFTER_COLOR] + EXTRA_COLORS)[i % (len(EXTRA_COLORS) + 1)],
            customdata=list(zip(part["name"] if "name" in part else part["run_id"], part["base_model"], strict=True)),
            hovertemplate="%{customdata[0]} (%{customdata[1]})<br>%{x} pairs → %{y:.3f}<extra></extra>",
        ))
    if not frame.empty:
        fig.add_hline(y=float(frame["before"].iloc[0]), line_dash="dot", line_color=BEFORE_COLOR,
                      annotation_text="before training", annotation_position="bottom right")
    fig.update_xaxes(title="training pairs", rangemode="tozero")
    fig.update_yaxes(title=f"{metric_label} after", range=[0, 1.02])
    return _layout(fig, f"Learning curve: {metric_label} vs training data")


LADDER_COLORS = {"untrained": BEFORE_COLOR, "trained": "#7fb3d9", "shipped": AFTER_COLOR}


def ladder_bars(rungs: list, shipped: str, metric_label: str) -> go.Figure:
    """Every pipeline a team could ship, bottom rung first, with its 95% interval; the shipped one stands out.
    `rungs` are core.evaluation.ladder.Rung (duck-typed here: charts import no training code)."""
    labels = [r.label[:1].upper() + r.label[1:] + (" (shipped)" if r.name == shipped else "") for r in rungs]
    colors = [LADDER_COLORS["shipped"] if r.name == shipped else LADDER_COLORS["trained" if r.trained else "untrained"] for r in rungs]
    fig = go.Figure(go.Bar(
        y=labels, x=[r.value for r in rungs], orientation="h", marker_color=colors, texttemplate="%{x:.3f}", textposition="inside",
        insidetextanchor="start", textfont=dict(color="white", size=14),
        error_x=dict(type="data", symmetric=False, array=[r.ci_high - r.value for r in rungs], arrayminus=[r.value - r.ci_low for r in rungs],
                     color="#444"),
        hovertext=[f"95% CI {r.ci_low:.3f}–{r.ci_high:.3f}" + ("" if r.p_vs_best_untrained is None else
                   f"; p = {r.p_vs_best_untrained:.3g} against the best pipeline without training") for r in rungs],
        hoverinfo="text+x"))
    fig.update_xaxes(title=metric_label, range=[0, 1.05])
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, f"{metric_label} of each pipeline on the eval queries (grey: needs no labels)", height=110 + 48 * len(rungs))
    fig.update_layout(showlegend=False, margin=dict(l=10, r=20, t=60, b=50))
    return fig
