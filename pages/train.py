"""Train: pick a kind and a few settings, see the data, launch, watch, read before → after."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import FlywheelError
from core.storage import splits
from core.storage.auth import Action
from core.storage.schemas import RunKind
from core.training import jobs
from core.training import run as training
from core.training.config import DEFAULTS, TrainConfig
from ui import auth, common
from ui.jobs import progress_panel

KIND_HELP = {
    "bi-encoder": "Fine-tunes the embedding model (MultipleNegativesRankingLoss with hard negatives). Minutes on a laptop CPU.",
    "cross-encoder": "Trains a re-ranker over the retriever's top 20, fused with the retriever's score (weight chosen on validation).",
    "adapter": "A linear matrix on query embeddings only: no corpus re-embedding, seconds on CPU. The cheap first step.",
}
RUN_KEY = "train_run_id"

st.title("Train")
auth.require(Action.train, "The Train page")
store = common.store()
settings = common.settings()
actor = common.user()
active = jobs.active_run(store)
if active:
    st.session_state[RUN_KEY] = active
    if jobs.read_run(store, active)["kind"] == RunKind.curve.value:
        st.info(f"A learning curve (`{active}`) is running: follow it on the Results page. Training waits for it (one job at a time).")

counts = splits.split_counts(store)
with st.container(border=True):
    left, right = st.columns([3, 1])
    left.markdown(f"**Split** · train {counts['train']} · eval {counts['eval']} · unassigned {counts['none']} approved queries")
    if counts["none"] and right.button("Assign split", help="Seeded 70/30, stratified by source document; imported splits are kept."):
        try:
            counts = splits.assign_splits(store, actor=actor)
            st.toast(f"Split: train {counts['train']}, eval {counts['eval']}")
            st.rerun()
        except FlywheelError as error:
            common.show_error(error)

# Plain widgets, not a form: what the Train button launches is always what the page shows.
with st.container(border=True):
    kind = st.radio("Kind", list(KIND_HELP), horizontal=True, captions=list(KIND_HELP.values()))
    base_model = st.text_input("Base model", value="", placeholder="bundled all-MiniLM-L6-v2",
                               help="A local folder or a hub id (the hub only where this machine can reach it).")
    c1, c2, c3 = st.columns(3)
    default = DEFAULTS[kind]
    epochs = c1.number_input(f"Epochs (0 = default, {default['epochs']:g})", min_value=0.0, max_value=200.0, value=0.0, step=1.0)
    batch_size = c2.number_input(f"Batch size (0 = default, {default['batch_size']})", min_value=0, max_value=512, value=0, step=8)
    learning_rate = c3.number_input(f"Learning rate (0 = default, {default['learning_rate']:g})", min_value=0.0, max_value=0.1,
                                    value=0.0, format="%.6f")
    c4, c5, c6 = st.columns(3)
    max_steps = c4.number_input("Max steps (0 = no cap)", min_value=0, value=0, step=10)
    budget_min = c5.number_input("Time budget, minutes (0 = none)", min_value=0.0, value=0.0, step=1.0)
    negatives = c6.number_input("Hard negatives per query", min_value=0, max_value=32, value=3)
    with st.expander("More"):
        positive_grade = st.slider("Positive grade", 1, 5, 3, help="Grade at which a judged document is a positive (1 for binary qrels).")
        retriever = st.text_input("Retriever for the cross-encoder", value="", placeholder="bundled all-MiniLM-L6-v2")

config = TrainConfig(
    kind=kind, base_model=base_model.strip(), retriever=retriever.strip(), epochs=epochs or None, batch_size=batch_size or None,
    learning_rate=learning_rate or None, max_steps=int(max_steps), time_budget_s=budget_min * 60, negatives_per_query=int(negatives),
    positive_grade=positive_grade,
)
try:
    data = training.preview(store, settings, config)
except FlywheelError as error:
    common.show_error(error)
    st.stop()

shown = data.counts()
cols = st.columns(6)
for column, (label, key) in zip(cols, [("train queries", "train_queries"), ("pairs", "train_pairs"), ("flagged negatives", "hard_negatives"),
                                       ("low-graded", "low_graded"), ("validation", "validation_queries"), ("eval queries", "eval_queries")]):
    column.metric(label, shown[key])
st.caption(f"Plus up to {int(negatives)} negatives per query mined with the base model at launch (margin keeps near-duplicates of positives out).")
for note in data.warnings:
    st.warning(note)

if st.button("Train", type="primary", icon=":material/rocket_launch:", disabled=bool(active) or not data.pairs, help="One run at a time; it keeps going if you leave the page."):
    try:
        job = training.launch(store, settings, config, actor=actor)
        st.session_state[RUN_KEY] = job.run_id
        st.rerun()
    except FlywheelError as error:
        common.show_error(error)

st.subheader("Runs")
history = jobs.list_runs(store)
if not history:
    st.caption("No runs yet.")
    st.stop()
ids = [run["run_id"] for run in history]
if st.session_state.get(RUN_KEY) not in ids:
    st.session_state[RUN_KEY] = ids[0]
labels = {run["run_id"]: f"{run['run_id']} · {run['status']}" for run in history}
st.selectbox("Run", ids, format_func=labels.get, key=RUN_KEY, disabled=bool(active),
             help="The running one while a run is active; otherwise the newest, or any earlier run.")
try:
    progress_panel(store, st.session_state[RUN_KEY], actor)
except FlywheelError as error:
    common.show_error(error)
st.dataframe(pd.DataFrame(history).drop(columns=["model_path"]), hide_index=True)
