"""Streamlit pieces of the review page: the generation panel, the item card, the queue's session state and actions.

Decisions run in button callbacks, so they are written to the workspace before the next item renders.
"""

from __future__ import annotations

import html

import streamlit as st

from core.errors import ConflictError, FlywheelError
from core.labeling import fewshot, generation, review
from core.settings import Settings
from core.storage.auth import Action
from core.storage.store import Store
from ui import auth
from ui.common import embedder, show_error, user
from ui.highlight import highlighted_html
from ui.progress import progress_bar
from ui.safe_text import code, escape, see_all

CURRENT = "review_current"  # the query id on screen (claimed by this reviewer)
SKIPPED = "review_skipped"  # ids skipped this session: not offered again until the page is reloaded
FLASH = "review_flash"  # (kind, message) from the last action, shown once
EDITING = "review_editing"
KEYS = [("A", "approve"), ("E", "edit, then Enter to save and approve"), ("X", "reject (the reason box is optional: type, Enter, then X)"),
        ("S", "skip for now (listed below, reachable again)"), ("U", "undo your last decision")]


# -- generation -----------------------------------------------------------------------------
def generation_panel(store: Store, settings: Settings, reviewer: str) -> None:
    """Pick documents, style and count; generate with progress. Any click (e.g. Stop) interrupts between documents."""
    if not auth.can(Action.generate):
        auth.explain(Action.generate, "Generating queries")
        return
    if settings.llm:
        st.caption(f"Generator: **{settings.llm}** (prompt {generation.PROMPT_VERSION}) through instructor.")
    else:
        st.info("**Offline generator**: no LLM is configured (set FLYWHEEL_LLM, e.g. `openai/gpt-4o-mini`), so queries are "
                "built from each document's own title and words. Expect plainer queries than an LLM writes.", icon=":material/power_off:")
    with st.form("generate_form", border=False):
        c1, c2, c3, c4 = st.columns(4)
        n = c1.number_input("Queries", 1, 1000, 20, help="How many queries to write in all.")
        per_doc = c2.number_input("Per document", 1, 10, 1)
        style = c3.selectbox("Style", [s.value for s in generation.Style], help="question · keyword search · ambiguous/hard")
        how = c4.selectbox("Documents", [s.value for s in generation.Selection])
        search_text = st.text_input("Search text (for 'by search')", "")
        examples = st.checkbox("Use approved queries as few-shot examples", value=True, disabled=not settings.llm)
        sets = fewshot.set_names(store)
        chosen = st.selectbox("Few-shot set", ["latest approved", *sets], disabled=not settings.llm or not sets,
                              help="A curated set (below) instead of the latest approved queries.")
        go = st.form_submit_button("Generate", type="primary")
    if not go:
        return
    st.button("Stop", help="Stops after the document in progress; finished documents are kept.")
    try:
        with progress_bar("Starting") as update:
            update(0, 0)
            gen = generation.make_generator(settings)
            docs = generation.select_documents(
                store, -(-int(n) // int(per_doc)), how, search_text=search_text,
                embedder=embedder() if how == generation.Selection.search.value else None,
            )
            result = generation.generate(
                store, gen, docs, style=style, per_doc=int(per_doc), limit=int(n), use_examples=examples, actor=user(),
                fewshot_set=None if chosen == "latest approved" else chosen, progress=update,
            )
    except FlywheelError as error:
        show_error(error)
        return
    # Rerun at once: the Stop button goes, the panel folds away and the first new item is on top.
    st.session_state[FLASH] = ("success", f"{len(result.written)} new pending queries from {result.docs_done} documents by "
                               f"{code(result.generator)}." + (f" {result.skipped_duplicates} duplicates skipped." if result.skipped_duplicates else ""))
    st.rerun()


# -- the item card --------------------------------------------------------------------------
def item_card(item: review.ReviewItem) -> None:
    st.html(f"<div style='font-size:1.6rem;font-weight:600;margin:.2rem 0' data-testid='review-query'>{html.escape(item.text)}</div>")
    st.caption(f"Generator {code(item.generator)} · query {code(item.query_id)} · source document {code(item.source_doc_id)}",
               help=see_all(item.generator, item.query_id, item.source_doc_id))
    if item.source_doc_id:
        st.html(
            "<div style='border:1px solid #ddd;border-radius:.5rem;padding:.8rem;max-height:22rem;overflow:auto'>"
            f"<b>{highlighted_html(item.doc_title, item.text)}</b><br>{highlighted_html(item.doc_text, item.text)}</div>"
        )


# -- queue state and actions (button callbacks) ---------------------------------------------
def current_item(store: Store, reviewer: str, generator: str | None, doc_id: str | None) -> review.ReviewItem | None:
    """The item this reviewer holds, or the next one the queue gives them."""
    current = st.session_state.get(CURRENT)
    if current and review.still_mine(store, reviewer, current):
        return review.load_item(store, current)
    item = review.next_item(store, reviewer, generator=generator, doc_id=doc_id, exclude=set(st.session_state.get(SKIPPED, [])))
    st.session_state[CURRENT] = item.query_id if item else None
    st.session_state[EDITING] = False
    return item


def _act(store: Store, reviewer: str, kind: str, query_id: str) -> None:
    try:
        if kind == "approve":
            review.approve(store, reviewer, query_id)
            message = "Approved."
        elif kind == "edit":
            action = review.approve(store, reviewer, query_id, st.session_state.get(f"edit_{query_id}", ""))
            message = "Edited and approved." if action == "edit" else "Approved (text unchanged)."
        elif kind == "reject":
            review.reject(store, reviewer, query_id, st.session_state.get(f"reason_{query_id}", ""))
            message = "Rejected (kept as a negative example)."
        elif kind == "skip":
            review.skip(store, reviewer, query_id)
            st.session_state[SKIPPED] = [*st.session_state.get(SKIPPED, []), query_id]
            message = "Skipped."
        else:
            raise ValueError(kind)
        st.session_state[FLASH] = ("success", message)
        st.session_state[CURRENT] = None
    except ConflictError as error:
        st.session_state[FLASH] = ("warning", escape(str(error), 2000))
        st.session_state[CURRENT] = None
    except FlywheelError as error:
        st.session_state[FLASH] = ("error", escape(str(error), 2000))
    st.session_state[EDITING] = False


def _undo(store: Store, reviewer: str) -> None:
    """U: take back my last action, skips included; the query it concerns comes back on screen."""
    try:
        undone = review.undo(store, reviewer)
    except FlywheelError as error:
        st.session_state[FLASH] = ("warning" if isinstance(error, ConflictError) else "error", escape(str(error), 2000))
        return
    if undone is None:
        st.session_state[FLASH] = ("info", "Nothing to undo.")
        return
    query_id = undone.query_id
    st.session_state[SKIPPED] = [q for q in st.session_state.get(SKIPPED, []) if q != query_id]
    if not undone.restored:
        st.session_state[FLASH] = ("info", f"Your skip of query {code(query_id)} is taken back, but someone else has "
                                           f"{undone.status_now} it since, so it stays {undone.status_now}. Press U again to undo "
                                           "your action before it.")
        return
    held = st.session_state.get(CURRENT)
    if held and held != query_id:
        review.release(store, held, reviewer)
    st.session_state[CURRENT] = query_id
    if undone.reason:  # the reason comes back in its box: a second X rejects as before
        st.session_state[f"reason_{query_id}"] = undone.reason
    what = {"skip": "skip", "reject": "rejection", "approve": "approval", "edit": "edit"}[undone.action]
    st.session_state[FLASH] = ("info", f"Undone your {what}: query {code(query_id)} is back" + (" and pending again." if undone.action != "skip" else "."))
    st.session_state[EDITING] = False


def release_current(store: Store, reviewer: str) -> None:
    """Filters changed: give the held item back so the queue picks one that matches."""
    held = st.session_state.get(CURRENT)
    if held:
        review.release(store, held, reviewer)
    st.session_state[CURRENT] = None


def show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(flash[1])


def action_bar(store: Store, reviewer: str, item: review.ReviewItem | None) -> None:
    """Approve A · Edit E · Reject X · Skip S · Undo U (C and R are reserved by Streamlit)."""
    qid = item.query_id if item else ""
    none = item is None
    if item is not None and st.session_state.get(EDITING):
        with st.form(f"edit_form_{qid}", border=False):  # Enter in the box saves, like Ctrl+Enter
            st.text_input("Edited query", value=item.text, key=f"edit_{qid}")
            # E means "type now": put the caret in the box (Streamlit has no focus API; this runs in the browser only).
            st.html(f"<script>/* {html.escape(qid)} */ setTimeout(() => {{ const box = document.querySelector('.st-key-edit_{qid} input');"
                    " if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); } }, 60);</script>",
                    unsafe_allow_javascript=True)
            st.form_submit_button("Save & approve", type="primary", shortcut="Ctrl+Enter", on_click=_act, args=(store, reviewer, "edit", qid),
                                  key="save_edit")
    row = st.container(horizontal=True)
    row.button("Approve", type="primary", shortcut="A", disabled=none, on_click=_act, args=(store, reviewer, "approve", qid), key="approve")
    row.button("Edit", shortcut="E", disabled=none, on_click=lambda: st.session_state.update({EDITING: True}), key="edit")
    row.button("Reject", shortcut="X", disabled=none, on_click=_act, args=(store, reviewer, "reject", qid), key="reject")
    row.button("Skip", shortcut="S", disabled=none, on_click=_act, args=(store, reviewer, "skip", qid), key="skip")
    row.button("Undo", shortcut="U", on_click=_undo, args=(store, reviewer), key="undo")
    if item is not None:
        st.text_input("Reject reason (optional)", key=f"reason_{qid}", placeholder="e.g. not answerable from this document",
                      help="Type the reason, press Enter, then X: Enter hands the keys back to the page.")


def _review_skipped(query_id: str | None = None) -> None:
    """Bring skipped items back: one now (it becomes the item on screen), or all into the queue."""
    st.session_state[SKIPPED] = [q for q in st.session_state.get(SKIPPED, []) if query_id and q != query_id]
    if query_id:
        st.session_state[CURRENT] = query_id  # current_item claims it, when nobody else holds it
        st.session_state[EDITING] = False


def skipped_panel(store: Store) -> None:
    """Skipped items stay visible and reachable, rather than vanishing until a reload."""
    skipped = st.session_state.get(SKIPPED, [])
    if not skipped:
        return
    texts = review.texts(store, skipped)
    still = [q for q in skipped if q in texts]
    if not still:
        return
    with st.expander(f":material/redo: Skipped this session ({len(still)})", expanded=False):
        for query_id in still:
            line = st.columns([5, 1], vertical_alignment="center")
            line[0].text(texts[query_id])
            line[1].button("Review now", key=f"unskip_{query_id}", on_click=_review_skipped, args=(query_id,))
        st.button("Put all back in my queue", key="unskip_all", on_click=_review_skipped)
