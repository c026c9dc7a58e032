"""Logs: what production users asked and how they reacted; import a log, promote logged queries."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import logs
from core.storage.auth import Action
from core.storage.demo import DEMO_DIR, demo_loaded
from ui import auth
from ui.common import embedder, show_error, store, user
from ui.log_upload import log_upload
from ui.progress import progress_bar
from ui.safe_text import code

DEMO_LOG = DEMO_DIR / "logs.jsonl"

st.title("Logs")
auth.require(Action.import_data, "The Logs page")
db = store()

with st.expander("Import an interaction log", expanded=db.count("interactions") == 0):
    log_upload("logs")

summary = logs.overview(db)
if not summary["interactions"]:
    st.info("No interactions logged yet. Import a log above, or run `flywheel import-logs PATH`.")
    if demo_loaded(db) and DEMO_LOG.exists() and st.button("Import the demo log (2,000 interactions)", key="logs_demo"):
        try:
            with st.spinner("Importing the demo log…"):
                logs.import_logs(db, DEMO_LOG, embedder=embedder(), actor=user(),
                                 progress=progress_bar("Embedding logged queries to merge near-duplicates"))
        except FlywheelError as error:
            show_error(error)
        else:
            st.rerun()
    st.stop()

cols = st.columns(4)
cols[0].metric("Interactions", f"{summary['interactions']:,}", border=True)
cols[1].metric("Distinct queries", f"{summary['queries']:,}", border=True, help="After merging near-duplicates.")
cols[2].metric("Feedback rate", f"{summary['feedback_rate']:.0%}", border=True, help="Share of interactions with a thumbs up or down.")
cols[3].metric("Thumbs-down share", f"{summary['thumbs_down_share']:.0%}", border=True, help="Of the interactions with feedback.")
st.line_chart(summary["per_day"], x="day", y="interactions", height=220)

if st.button("Measure eval coverage", help="Embeds every logged query and finds its nearest eval query."):
    with st.spinner("Embedding logged and eval queries…"):
        st.session_state["logs_coverage"] = logs.eval_coverage(db, embedder())
coverage = st.session_state.get("logs_coverage")
if coverage:
    st.markdown(f"**Eval coverage: {coverage['covered_share']:.0%}** of logged traffic has an eval query within cosine "
                f"{coverage['threshold']} ({coverage['eval_queries']} eval queries).")


def promote(query_id: str, to: str) -> None:
    try:
        logs.promote(db, user(), query_id, to)
    except FlywheelError as error:
        st.session_state["logs_error"] = str(error)
    else:
        st.session_state["logs_done"] = f"{code(query_id)} sent to {'the review queue' if to == 'review' else 'the eval split'}."


if st.session_state.get("logs_error"):
    st.error(st.session_state.pop("logs_error"))
if st.session_state.get("logs_done"):
    st.success(st.session_state.pop("logs_done"))

top_tab, uncited_tab = st.tabs(["Most frequent queries", "Top results nobody cited"])
for tab, frame, caption in ((top_tab, summary["top_queries"], "Variants: texts as typed that were merged into this query."),
                            (uncited_tab, summary["uncited"], f"No answer cited any of the top {logs.HIGH_RANK} results: "
                                                              "retrieval or the corpus is missing something.")):
    with tab:
        st.caption(caption)
        st.dataframe(frame.head(200), hide_index=True, width="stretch")

st.subheader("Promote a logged query")
choices = summary["top_queries"].head(200)
text_of = dict(zip(choices["query_id"], choices["text"]))
picked = st.selectbox("Query", choices["query_id"], format_func=lambda q: f"{q}: {text_of[q]}", key="logs_pick")
if picked:
    row = choices.set_index("query_id").loc[picked]
    st.caption(f"origin {row['origin']} · status {row['status']} · split {row['split']} · {row['interactions']} interactions")
    st.dataframe(logs.variants(db, picked), hide_index=True)
    left, right = st.columns(2)
    left.button("To the review queue", key="logs_to_review", on_click=promote, args=(picked, "review"), disabled=row["status"] == "pending",
                help="Pending again, so a reviewer approves or rejects it on the Review page.")
    right.button("To the eval split", key="logs_to_eval", on_click=promote, args=(picked, "eval"), type="primary",
                 disabled=row["split"] == "eval" and row["status"] == "approved", help="Approved into the eval split: grade it on the Grade page.")
