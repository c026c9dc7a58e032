"""Train: pick a kind and a few settings, see the data, launch, watch, read before → after."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import FlywheelError
from core.labeling.labels import FLYWHEEL_TOP
from core.storage import splits
from core.storage.auth import Action
from core.storage.schemas import RunKind
from core.training import estimate, jobs
from core.training import run as training
from core.training.config import DEFAULTS, TrainConfig, bounds
from ui import auth, common
from ui.jobs import eta as _eta
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
    default = DEFAULTS[kind]  # the real values, per kind (keyed by kind so switching kind shows its own)
    # Limits come from TrainConfig's own fields (training.config.bounds): the page, the CLI and the checks agree.
    epochs = c1.number_input("Epochs", min_value=0.1, max_value=float(bounds("epochs")[1]), value=float(default["epochs"]), step=1.0,
                             key=f"epochs_{kind}")
    batch_size = c2.number_input("Batch size", *map(int, bounds("batch_size")), value=int(default["batch_size"]), step=8, key=f"batch_{kind}")
    learning_rate = c3.number_input("Learning rate", min_value=1e-7, max_value=float(bounds("learning_rate")[1]), value=float(default["learning_rate"]),
                                    format="%.1e", step=float(default["learning_rate"]) / 2, key=f"lr_{kind}")
    c4, c5, c6 = st.columns(3)
    max_steps = c4.number_input("Max steps (0 = no cap)", *map(int, bounds("max_steps")), value=0, step=10)
    budget_min = c5.number_input("Time budget, minutes (0 = none)", min_value=0.0, max_value=bounds("time_budget_s")[1] / 60, value=0.0, step=1.0)
    negatives = c6.number_input("Hard negatives per query", *map(int, bounds("negatives_per_query")), value=int(default["negatives_per_query"]),
                                key=f"negatives_{kind}")
    with st.expander("More"):
        positive_grade = st.slider("Positive grade (0 = the top band of each query's scale)", 0, FLYWHEEL_TOP, 0,
                                   help="0: binary qrels 1, TREC 0–3 ≥ 2, Flywheel 0–5 ≥ 3, as each import's grades show. Or a fixed grade.")
        retriever = st.text_input("Retriever for the cross-encoder", value="", placeholder="bundled all-MiniLM-L6-v2")
        warm_start = st.checkbox("Warm start the re-ranker", value=TrainConfig.warm_start, disabled=kind != RunKind.cross_encoder.value,
                                 help="Cross-encoder: before the labels, learn the retriever's scores over one synthetic query per "
                                      "document (up to 256), so the re-ranker starts where the retriever is.")
        pretrain = st.checkbox("Pre-train the re-ranker on synthetic queries", value=TrainConfig.pretrain, disabled=kind != RunKind.cross_encoder.value,
                               help="Cross-encoder: before the labels, one epoch on the workspace's synthetic queries (and offline ones "
                                    "for more documents), each with its source document as the positive. Off by default: not yet measured to help.")

config = TrainConfig(
    kind=kind, base_model=base_model.strip(), retriever=retriever.strip(), epochs=float(epochs), batch_size=int(batch_size),
    learning_rate=float(learning_rate), max_steps=int(max_steps), time_budget_s=budget_min * 60, negatives_per_query=int(negatives),
    positive_grade=positive_grade, warm_start=warm_start, pretrain=pretrain,
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
mined = (f"as many negatives per query as it has positives (at least {int(negatives)}, up to the top {TrainConfig.rerank_depth} it re-ranks)"
         if kind == RunKind.cross_encoder.value else f"up to {int(negatives)} negative{'s' if int(negatives) != 1 else ''} per query")
st.caption(f"Positives: {data.positive_rule}. Plus {mined}, mined with the base model at launch (a margin keeps near-duplicates of positives out).")
if counts["none"]:  # launch draws the split first (splits.assign_unassigned): a test-only BEIR import trains as it is
    st.info(f"{counts['none']:,} approved queries have no train/eval side yet: Train first draws the seeded 70/30 split "
            "(Assign split above does it now, and these counts follow).", icon=":material/call_split:")
for note in data.warnings:
    st.warning(note)

guess = estimate.estimate_s(store, kind, shown["train_pairs"], float(epochs), int(max_steps), int(batch_size), budget_min * 60)
st.caption(f"Estimated duration: about {_eta(guess[0])}, from {guess[1]} earlier {kind} run{'s' if guess[1] > 1 else ''} on this "
           "machine scaled to this data (rough: the machine may be busier now)." if guess else
           f"Estimated duration: none yet. The first {kind} run here measures this machine's speed; later runs get an estimate.")
def default_name(counts: dict) -> str:
    return f"{kind} with {counts['train_pairs']:,} pairs, {pd.Timestamp.now():%b %d %H:%M}"  # not the run id (issue 24)


run_name = st.text_input("Run name (optional)", key="train_run_name", placeholder=f"default: {default_name(shown)}",
                         help="Shown on Results and in reports instead of the run id; editable later.")
if st.button("Train", type="primary", icon=":material/rocket_launch:", disabled=bool(active) or not (data.pairs or counts["none"]), help="One run at a time; it keeps going if you leave the page."):
    try:
        job = training.launch(store, settings, config, actor=actor)
        if counts["none"]:  # launch drew the split: the pairs shown above were counted before it
            shown = training.preview(store, settings, config).counts()
        jobs.rename_run(store, job.run_id, run_name.strip() or default_name(shown), "", actor)
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
names = {run["run_id"]: f"{jobs.display_name(run)} · {run['run_id']}" for run in history}
st.selectbox("Run", ids, format_func=names.get, key=RUN_KEY, disabled=bool(active),
             help="The running one while a run is active; otherwise the newest, or any earlier run. Its status is shown below.")
chosen = next(run for run in history if run["run_id"] == st.session_state[RUN_KEY])
with st.popover("Name and tags", icon=":material/edit:"):
    with st.form(f"rename_{chosen['run_id']}", border=False):
        new_name = st.text_input("Name", value=chosen.get("name") or "")
        new_tags = st.text_input("Tags (comma-separated)", value=chosen.get("tags") or "")
        if st.form_submit_button("Save"):
            try:
                jobs.rename_run(store, chosen["run_id"], new_name, new_tags, actor)
                st.rerun()
            except FlywheelError as error:
                common.show_error(error)
try:
    progress_panel(store, st.session_state[RUN_KEY], actor)
except FlywheelError as error:
    common.show_error(error)
st.dataframe(pd.DataFrame(history).drop(columns=["model_path"]), hide_index=True,
             column_order=["name", "status", "kind", "tags", "run_id", "created_at", "finished_at", "before_recall@10", "after_recall@10",
                           "before_ndcg@10", "after_ndcg@10", "base_model", "error"])
