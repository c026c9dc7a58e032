"""Review: generate synthetic queries, then approve, edit, reject or skip them one at a time, keyboard first."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import review
from ui import common
from ui import review_widgets as w
from ui.fewshot_panel import fewshot_panel
from ui.keys import hint, key_help
from ui.safe_text import escape, see_all

st.title("Review synthetic queries")
name = common.require_reviewer()
store = common.store()
settings = common.settings()

key_help("Review", w.KEYS)
generators, doc_ids = review.filter_options(store)
left, right = st.columns(2)
generator = left.selectbox("Generator", ["All", *generators], key="review_filter_generator",
                           on_change=w.release_current, args=(store, name))
doc_id = right.selectbox("Source document", ["All", *doc_ids], key="review_filter_doc", on_change=w.release_current, args=(store, name))
generator = None if generator == "All" else generator
doc_id = None if doc_id == "All" else doc_id


def queue() -> None:
    """The item on screen and its buttons; decisions run in the buttons' callbacks, before this renders."""
    w.show_flash()
    try:
        item = w.current_item(store, name, generator, doc_id)
    except FlywheelError as error:
        common.show_error(error)
        return
    st.caption(f"{review.pending_count(store)} pending in the workspace · reviewing as **{escape(name, 40)}** · "
               + hint([("A", "approve"), ("E", "edit"), ("X", "reject"), ("S", "skip"), ("U", "undo")]), help=see_all(name, limit=40))
    if item is None:
        st.success("Nothing left to review here. Generate more queries below, change the filters, or undo your last decision.")
    else:
        with st.container(border=True):
            w.item_card(item)
    w.action_bar(store, name, item)
    w.skipped_panel(store)


queue()

# Below the item: the reviewer's work comes first; open by itself only when there is nothing to review.
with st.expander(":material/auto_awesome: Generate queries", expanded=review.pending_count(store) == 0):
    w.generation_panel(store, settings, name)
with st.expander(":material/collections_bookmark: Few-shot sets"):
    fewshot_panel(store, name)

with st.expander(":material/history: Decided items and their history"):
    status = st.segmented_control("Status", ["approved", "rejected", "pending"], key="review_table_status")
    try:
        table = review.decided(store, generator=generator, doc_id=doc_id, status=status)
    except FlywheelError as error:
        common.show_error(error)
    else:
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_order=["text", "status", "original_text", "reject_reason", "reviewer", "reviewed_at", "generator", "source_doc_id", "history", "query_id"],
        )
