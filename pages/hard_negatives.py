"""Hard negatives: confirm or reject mined candidates (ranked high but graded low, or never
graded and close to a positive, or ranked high under a thumbs-down in the production logs and
never cited), and the confirmed list per query."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import hardnegatives
from ui import grading as ui
from ui.common import embedder, require_reviewer, show_error, store
from ui.safe_text import code, escape

st.title("Hard negatives")
name = require_reviewer()
db = store()
found = "hn_candidates"

with st.form("hn_mine"):
    cols = st.columns(3)
    k = cols[0].number_input("Look in the top k", 1, 100, 10)
    low = cols[1].number_input("Graded at most", 0, 5, 1, help="Ranked high but graded this low or lower.")
    per_query = cols[2].number_input("Similar candidates per positive", 1, 10, 3)
    if st.form_submit_button("Mine candidates", type="primary"):
        try:
            with st.spinner("Ranking and mining…"):
                st.session_state[found] = hardnegatives.mined_candidates(db, embedder(""), k=int(k), low_grade=int(low),
                                                                         per_query=int(per_query)).to_dict("records")
        except FlywheelError as error:
            show_error(error)


def decide(query_id: str, doc_id: str, keep: bool) -> None:
    try:
        if keep:
            hardnegatives.confirm(db, name, query_id, doc_id, int(st.session_state.get(f"hn_grade::{query_id}::{doc_id}", 0)))
        else:
            hardnegatives.reject(db, name, query_id, doc_id)
    except FlywheelError as error:
        st.session_state["hn_error"] = str(error)
        return
    st.session_state[found] = [r for r in st.session_state.get(found, []) if (r["query_id"], r["doc_id"]) != (query_id, doc_id)]


if st.session_state.get("hn_error"):
    st.error(escape(st.session_state.pop("hn_error"), 2000))
candidates = st.session_state.get(found)
if candidates is not None:
    st.subheader(f"Candidates to decide ({len(candidates)})")
    if not candidates:
        st.caption("No undecided candidates.")
    for row in candidates[:50]:
        with st.container(border=True):
            st.markdown(f"**Query** {code(row['query_id'])}: {escape(row['query'], 500)}")
            st.caption(f"{code(row['doc_id'])} · {escape(row['source'], 60)} · score {row['score']:.3f}")
            ui.show_document(row["title"], row["text"], row["query"])
            cols = st.columns([2, 1, 1])
            key = f"{row['query_id']}::{row['doc_id']}"
            cols[0].segmented_control("Your grade", [0, 1, 2], default=0, key=f"hn_grade::{key}",
                                      help="A hard negative is not relevant: 0 irrelevant, 1 marginal, 2 partial.")
            cols[1].button("Confirm", key=f"hn_yes::{key}", on_click=decide, args=(row["query_id"], row["doc_id"], True), type="primary")
            cols[2].button("Not a hard negative", key=f"hn_no::{key}", on_click=decide, args=(row["query_id"], row["doc_id"], False))

st.subheader("Confirmed hard negatives per query")
confirmed = hardnegatives.confirmed(db)
if confirmed.empty:
    st.caption("None yet.")
for query_id, group in confirmed.groupby("query_id", sort=True):
    with st.expander(f"{escape(query_id, 60)}: {escape(group['query'].iloc[0])} ({len(group)})"):
        st.dataframe(group[["doc_id", "title", "grade", "reviewers"]], hide_index=True)
