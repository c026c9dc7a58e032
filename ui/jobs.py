"""The training-job progress panel: a fragment that polls the run's row (never the thread)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from core.errors import FlywheelError
from core.evaluation import metrics
from core.storage.auth import User
from core.storage.schemas import RunKind
from core.storage.store import Store
from core.training import jobs
from core.training.cross_encoder import fusion_note
from ui import errors
from ui.common import show_error
from ui.safe_text import code, escape

POLL_S = 2.0


def eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def loss_chart(history: list[dict]) -> None:
    frame = pd.DataFrame([h for h in history if "loss" in h])
    if len(frame) > 1:
        figure = px.line(frame, x="step", y="loss", title="Training loss", height=260)
        figure.update_traces(name="training loss", showlegend=True)
        evals = pd.DataFrame([h for h in history if "eval_ndcg@10" in h])
        if not evals.empty:
            figure.add_scatter(x=evals["step"], y=evals["eval_ndcg@10"], mode="lines+markers", name="validation nDCG@10", yaxis="y2")
            figure.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 1], "title": "nDCG@10",
                                         "tickvals": [0, 0.25, 0.5, 0.75, 1], "showgrid": False})
        figure.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
        st.plotly_chart(figure, key="loss_chart")


def summary_cards(store: Store, run_id: str) -> None:
    """'recall@10 0.72 → 0.89' for each summary metric."""
    stages = metrics.stage_metrics(store, run_id)
    before, after = stages.get("before", {}), stages.get("after", {})
    if not after:
        return
    columns = st.columns(len(metrics.SUMMARY))
    for column, name in zip(columns, metrics.SUMMARY):
        change = after.get(name, 0) - before.get(name, 0)
        column.metric(name, f"{before.get(name, 0):.2f} → {after.get(name, 0):.2f}", delta=f"{change:+.3f}" if abs(change) >= 0.0005 else None)
    for stage, values in stages.items():
        if stage not in ("before", "after"):
            st.caption(f"{stage}: recall@10 {values.get('recall@10', 0):.2f}, nDCG@10 {values.get('ndcg@10', 0):.2f}")


def browser_error(error: str) -> str:
    """A run's error without its traceback (which names server paths): the engineer reads that with `flywheel runs`."""
    if "\n" not in (error or ""):
        return error or ""
    kind = error.splitlines()[0].split(":")[0]
    return f"{kind} (an unexpected failure; `flywheel runs` on the server shows the traceback)"


def render(store: Store, run_id: str, actor: str | User) -> str:
    """Progress, loss curve, cancel button, then the before/after summary; returns the status."""
    run = jobs.read_run(store, run_id)
    progress, status = run["progress"], run["status"]
    cancelling = status in jobs.ACTIVE and jobs.cancel_requested(store, run_id)
    phase = f" · {'cancelling…' if cancelling else progress.get('phase', '')}" if status in jobs.ACTIVE else ""
    st.markdown(f"**Run {code(run_id)}** · {run['kind']} · status **{status}**{phase}")
    work = progress.get("work") or {}
    if status in jobs.ACTIVE and work.get("total"):  # every phase with a count: trainer steps, documents, pairs, weights
        done, size, unit = work.get("done", 0), work["total"], work.get("unit", "")
        loss = f" · loss {progress.get('loss') or '–'}" if unit == "steps" else ""
        st.progress(min(done / size, 1.0), text=f"{progress['phase']}: {done}/{size} {unit}{loss} · ETA {eta(work.get('eta_s'))}")
    elif status in jobs.ACTIVE:
        st.progress(0.0, text=f"{progress.get('phase', 'starting')} · ETA {eta(None)}")
    if status in jobs.ACTIVE:
        if progress.get("eval"):
            st.caption("validation: " + ", ".join(f"{k} {v:.3f}" for k, v in progress["eval"].items()))
        if st.button("Cancel run", key=f"cancel_{run_id}", icon=":material/stop_circle:", disabled=cancelling):
            try:
                jobs.request_cancel(store, run_id, actor)
                st.toast("Cancelling…: the run stops within a few seconds.")
                st.rerun(scope="fragment")
            except FlywheelError as error:
                show_error(error)
    loss_chart(progress.get("history", []))
    if status == "succeeded":
        summary_cards(store, run_id)
        if run["kind"] == RunKind.cross_encoder.value and progress.get("training"):
            st.info(fusion_note(progress["training"]), icon=":material/merge:")
        st.caption(f"Model saved in the workspace's models folder as {code(Path(run['model_path']).name)}")
    elif status in ("failed", "interrupted"):
        st.error(f"Run {status}: {escape(browser_error(run['error']), 2000)}")
    elif status == "cancelled":
        st.warning("Run cancelled: no model was evaluated.")
    return status


def progress_panel(store: Store, run_id: str, actor: str | User) -> None:
    """Live while the run is active (polled every few seconds), static once it has ended."""
    if jobs.read_run(store, run_id)["status"] not in jobs.ACTIVE:
        render(store, run_id, actor)
        return

    @st.fragment(run_every=POLL_S)
    @errors.guarded("run progress")  # a fragment's rerun runs outside the page's frame
    def live() -> None:
        if render(store, run_id, actor) not in jobs.ACTIVE:
            st.rerun()  # redraw the page once, without the timer

    live()
