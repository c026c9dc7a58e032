"""Hard negatives: a queue of mined candidates (ranked high but graded low, never graded and
close to a positive, or ranked high under a thumbs-down in the production logs and never cited),
one at a time from the keyboard, and the confirmed list per query.

The page opens with the candidates already there: the workspace is mined in the background
(ui/mining.py) with a progress bar, not behind a form. The card and its keys come first, in
words for annotators; blind mode (on by default) hides every model number.
"""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import hardnegatives
from core.labeling.labels import FLYWHEEL_TOP
from ui import grading as ui
from ui import mining
from ui.background import loading_embedder
from ui.common import require_reviewer, settings, show_error, store
from ui.keys import hint, key_help
from ui.safe_text import code, escape, see_all

FOUND, POS, LAST, OPTIONS, AGAIN = "hn_candidates", "hn_pos", "hn_last", "hn_options", "hn_again"
DEFAULTS = {"k": 10, "low_grade": 1, "per_query": 3}
SOURCES = {"all": "all", "ranked high, graded low": "ranked", "never graded": "never graded", "from the logs": "logs"}
KEYS = [("H", "yes, a hard negative"), ("N", "no, not a hard negative"), ("J / K", "next / previous candidate (skip)")]

st.title("Hard negatives")
name = require_reviewer()
db = store()
key_help("Hard negatives", KEYS)
st.caption("A hard negative looks like an answer to the query but is not one: confirming them teaches the model most. "
           "Read the query and the document, then say whether it is one. " + hint(KEYS[:2]))
blind = st.toggle("Blind mode", value=True, key="hn_blind", help="Hide the model's scores and ranks and other people's grades.")


def look_again() -> None:
    """The settings form: mine again with them; this session's list is replaced when the new pass is done."""
    st.session_state[OPTIONS] = {"k": int(st.session_state["hn_k"]), "low_grade": int(st.session_state["hn_low"]),
                                 "per_query": int(st.session_state["hn_per_query"])}
    st.session_state[AGAIN] = True
    st.session_state.pop(FOUND, None)
    st.session_state[POS] = 0


@st.fragment(run_every=0.5)
def waiting(job: mining.Pass) -> None:
    """Progress of the background pass; the whole page reruns once it is done, to show the queue."""
    if job.future.done():
        st.rerun()
    done, total, phase, note = job.progress.read()
    st.progress(min(done / total, 1.0) if total else 0.0,
                text=f"Finding candidates for the workspace · {phase}" + (f" {done:,}/{total:,}" if total else "…"))


def decide(row: dict, keep: bool) -> None:
    """Store the decision, then drop the candidate from the queue (the next one takes its place)."""
    try:
        if keep:
            hardnegatives.confirm(db, name, row["query_id"], row["doc_id"], int(st.session_state.get("hn_grade") or 0))
        else:
            hardnegatives.reject(db, name, row["query_id"], row["doc_id"])
    except FlywheelError as error:
        st.session_state["hn_error"] = str(error)
        return
    st.session_state[FOUND] = [r for r in st.session_state[FOUND] if (r["query_id"], r["doc_id"]) != (row["query_id"], row["doc_id"])]
    st.session_state[LAST] = f"{'Confirmed' if keep else 'Not a hard negative'}: `{row['doc_id']}` for `{row['query_id']}`."
    st.session_state["hn_grade"] = 0


def step(by: int, total: int) -> None:
    st.session_state[POS] = (st.session_state.get(POS, 0) + by) % max(total, 1)


def card(row: dict) -> None:
    """The query, why it is offered, the decision keys, then the document: keys above the fold."""
    st.markdown(f"#### {escape(row['query'], 500)}", help=see_all(row["query"], limit=500))
    detail = "" if blind else f" · {escape(row['source'], 80)}" + (f" · score {row['score']:.3f}" if row["score"] == row["score"] else "")
    st.caption(f":material/help: {row['why']}{detail} · query {code(row['query_id'])} · document {code(row['doc_id'])}",
               help=see_all(row["query_id"], row["doc_id"]))
    bar = st.container(horizontal=True, vertical_alignment="bottom")
    bar.segmented_control("Your grade", [0, 1, 2], default=0, key="hn_grade", required=True,
                          help="A hard negative is not relevant: 0 irrelevant, 1 marginal, 2 partial.")
    bar.button("Hard negative", key="hn_yes", shortcut="h", type="primary", on_click=decide, args=(row, True))
    bar.button("Not a hard negative", key="hn_no", shortcut="n", on_click=decide, args=(row, False))
    bar.button("Previous", key="hn_prev", shortcut="k", on_click=step, args=(-1, st.session_state["hn_shown"]))
    bar.button("Next", key="hn_next", shortcut="j", on_click=step, args=(1, st.session_state["hn_shown"]))
    with st.container(border=True, key="hn_document"):
        ui.show_document(row["title"], row["text"], row["query"])


@st.fragment
def queue() -> None:
    """One candidate at a time; a decision reruns only this fragment, so the next one shows at once."""
    candidates = st.session_state[FOUND]
    kind, text = SOURCES[st.session_state.get("hn_source") or "all"], st.session_state.get("hn_filter", "")
    shown = [r for r in candidates if (kind == "all" or r["source"].startswith(kind)) and text.lower() in r["query"].lower()]
    st.session_state["hn_shown"] = len(shown)
    if st.session_state.get("hn_error"):
        st.error(escape(st.session_state.pop("hn_error"), 2000))
    if st.session_state.get(LAST):
        st.caption(st.session_state.pop(LAST))
    if shown:
        pos = min(st.session_state.get(POS, 0), len(shown) - 1)
        st.progress((pos + 1) / len(shown), text=f"Candidate {pos + 1} of {len(shown)}" + (f" (of {len(candidates)} in all)"
                                                                                             if len(shown) < len(candidates) else ""))
        with st.container(border=True, key="hn_card"):
            card(shown[pos])
    elif candidates:
        st.success("No undecided candidate here. Clear the filters below to see the others.")
    else:
        st.success("Nothing to check right now: every candidate is decided. Candidates come from graded queries; grade more on "
                   "the Grade page, then look again below.")
    with st.expander("Filter the candidates", expanded=bool(text) or kind != "all"):
        st.segmented_control("Show", list(SOURCES), default="all", key="hn_source", required=True)
        st.text_input("Query contains", key="hn_filter", placeholder="filter by query text")


if FOUND not in st.session_state:
    job = mining.passes().get(db, settings().db_uri, loading_embedder(), st.session_state.get(OPTIONS, DEFAULTS),
                              again=st.session_state.pop(AGAIN, False))
    if not job.future.done():
        waiting(job)
    elif isinstance(job.future.exception(), FlywheelError):
        show_error(job.future.exception())
    elif job.future.exception() is not None:
        raise job.future.exception()
    else:
        decided = hardnegatives.decided_pairs(db)  # a shared pass: what others decided since drops out
        st.session_state[FOUND] = [r for r in job.future.result() if (r["query_id"], r["doc_id"]) not in decided]
        st.session_state[POS] = 0
if FOUND in st.session_state:
    queue()

with st.expander("How candidates are found"):
    options = st.session_state.get(OPTIONS, DEFAULTS)
    with st.form("hn_mine", border=False):
        cols = st.columns(3)
        cols[0].number_input("Look in each query's top … search results", 1, 100, options["k"], key="hn_k")
        cols[1].number_input("…for documents graded at most", 0, FLYWHEEL_TOP, options["low_grade"], key="hn_low",
                             help="0 irrelevant, 1 marginal, 2 partially relevant: ranked high but graded this low or lower.")
        cols[2].number_input("Never-graded look-alikes of a relevant document, per query", 1, 10, options["per_query"], key="hn_per_query")
        st.form_submit_button("Look again", on_click=look_again, help="Find candidates again with these settings (new grades count too).")

st.subheader("Confirmed hard negatives per query")
confirmed = hardnegatives.confirmed(db)
if confirmed.empty:
    st.caption("None yet.")
for query_id, group in confirmed.groupby("query_id", sort=True):
    with st.expander(f"{escape(query_id, 60)}: {escape(group['query'].iloc[0])} ({len(group)})"):
        if see_all(query_id, limit=60) or see_all(group["query"].iloc[0]):
            st.text(f"{query_id}: {group['query'].iloc[0]}")  # the label cut them: here in full
        st.dataframe(group[["doc_id", "title", "grade", "reviewers"]], hide_index=True)
