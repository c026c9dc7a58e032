"""The few-shot library on the Review page: named sets of approved queries; pin, unpin, reorder."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import fewshot
from core.storage.store import Store
from ui.safe_text import escape, see_all


def _act(action, *args) -> None:
    try:
        action(*args)
    except FlywheelError as error:
        st.session_state["fewshot_error"] = str(error)


def fewshot_panel(store: Store, reviewer: str) -> None:
    """Pick or name a set, pin approved queries to it, reorder and unpin its examples."""
    if st.session_state.get("fewshot_error"):
        st.error(st.session_state.pop("fewshot_error"))
    left, right = st.columns(2)
    existing = fewshot.set_names(store)
    picked = left.selectbox("Set", [*existing, "new set…"], key="fewshot_set")
    name = right.text_input("New set name", key="fewshot_new", placeholder="e.g. keyword, members") if picked == "new set…" else picked
    options = fewshot.approved_queries(store)
    query_id = st.selectbox("Approved query to pin", list(options), format_func=lambda q: options[q], key="fewshot_pick")
    st.button("Pin to set", key="fewshot_pin", disabled=not (name and query_id), on_click=_act,
              args=(fewshot.pin, store, reviewer, name or "", query_id))
    if not name or name == "new set…":
        return
    frame = fewshot.members(store, name)
    st.caption(f"**{escape(name)}**: {len(frame)} examples, in the order the generator shows them. "
               "`flywheel export --format fewshot --out fewshot.json` writes every set.")
    for row in frame.to_dict("records"):
        cols = st.columns([6, 1, 1, 1])
        cols[0].markdown(f"{row['position'] + 1}. {escape(row['text'], 500)}  \n:gray[approved by {escape(row['approved_by'] or '—')}"
                         + (f" · {escape(row['doc_title'])}" if row["doc_title"] else "") + "]",
                         help="  \n\n".join(filter(None, [see_all(row["text"], limit=500), see_all(row["approved_by"], row["doc_title"])])) or None)
        cols[1].button("↑", key=f"fs_up::{row['query_id']}", on_click=_act, args=(fewshot.move, store, reviewer, name, row["query_id"], -1))
        cols[2].button("↓", key=f"fs_down::{row['query_id']}", on_click=_act, args=(fewshot.move, store, reviewer, name, row["query_id"], 1))
        cols[3].button("Unpin", key=f"fs_unpin::{row['query_id']}", on_click=_act, args=(fewshot.unpin, store, reviewer, name, row["query_id"]))
