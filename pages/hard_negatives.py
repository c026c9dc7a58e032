"""Hard negatives: a queue of mined candidates (ranked high but graded low, never graded and
close to a positive, or ranked high under a thumbs-down in the production logs and never cited),
one at a time from the keyboard, and the confirmed list per query."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import hardnegatives
from ui import grading as ui
from ui.common import embedder, require_reviewer, show_error, store
from ui.keys import hint, key_help
from ui.progress import progress_bar
from ui.safe_text import code, escape, see_all

FOUND, POS, LAST = "hn_candidates", "hn_pos", "hn_last"
KEYS = [("H", "confirm: a hard negative"), ("N", "not a hard negative"), ("J / K", "next / previous candidate (skip)")]

st.title("Hard negatives")
name = require_reviewer()
db = store()
key_help("Hard negatives", KEYS)

with st.form("hn_mine"):
    cols = st.columns(3)
    k = cols[0].number_input("Look in the top k", 1, 100, 10)
    low = cols[1].number_input("Graded at most", 0, 5, 1, help="Ranked high but graded this low or lower.")
    per_query = cols[2].number_input("Similar candidates per positive", 1, 10, 3)
    mine = st.form_submit_button("Mine candidates", type="primary")
if mine:
    st.session_state.pop(FOUND, None)  # the old queue goes away while the new one is mined
    try:
        with progress_bar("Starting") as update:
            st.session_state[FOUND] = hardnegatives.mined_candidates(
                db, embedder(""), k=int(k), low_grade=int(low), per_query=int(per_query), progress=update).to_dict("records")
        st.session_state[POS] = 0
    except FlywheelError as error:
        show_error(error)


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


@st.fragment
def queue(candidates: list[dict]) -> None:
    """One candidate at a time; a decision reruns only this fragment, so the next one shows at once."""
    sources = st.segmented_control("Show", ["all", "ranked high, graded low", "never graded"], default="all", key="hn_source",
                                   required=True)
    text = st.text_input("Query contains", key="hn_filter", placeholder="filter by query text")
    candidates = st.session_state.get(FOUND, candidates)  # after a decision, the shortened queue
    shown = [r for r in candidates
             if (sources == "all" or r["source"].startswith("ranked") == (sources == "ranked high, graded low"))
             and text.lower() in r["query"].lower()]
    if st.session_state.get("hn_error"):
        st.error(escape(st.session_state.pop("hn_error"), 2000))
    if st.session_state.get(LAST):
        st.caption(st.session_state.pop(LAST))
    if not shown:
        st.success("No undecided candidate here." + (" Clear the filters to see the others." if len(shown) < len(candidates) else ""))
        return
    pos = min(st.session_state.get(POS, 0), len(shown) - 1)
    row = shown[pos]
    st.subheader(f"Candidates to decide ({len(candidates)})")
    st.progress((pos + 1) / len(shown), text=f"Candidate {pos + 1} of {len(shown)}" + (f" (of {len(candidates)} in all)"
                                                                                         if len(shown) < len(candidates) else ""))
    with st.container(border=True, key="hn_card"):
        st.markdown(f"**Query** {escape(row['query'], 500)}  \n:gray[{code(row['query_id'])} · {code(row['doc_id'])} · {escape(row['source'], 60)}"
                    f" · score {row['score']:.3f}]", help="  \n\n".join(filter(None, [see_all(row["query"], limit=500), see_all(row["query_id"], row["doc_id"]),
                                                                  see_all(row["source"], limit=60)])) or None)
        ui.show_document(row["title"], row["text"], row["query"])
    grade = st.columns([3, 2])
    grade[0].segmented_control("Your grade", [0, 1, 2], default=0, key="hn_grade", required=True,
                               help="A hard negative is not relevant: 0 irrelevant, 1 marginal, 2 partial.")
    bar = st.container(horizontal=True)
    bar.button("Hard negative", key="hn_yes", shortcut="h", type="primary", on_click=decide, args=(row, True))
    bar.button("Not a hard negative", key="hn_no", shortcut="n", on_click=decide, args=(row, False))
    bar.button("Previous", key="hn_prev", shortcut="k", on_click=step, args=(-1, len(shown)))
    bar.button("Next", key="hn_next", shortcut="j", on_click=step, args=(1, len(shown)))
    st.caption(hint(KEYS[:2]))


candidates = st.session_state.get(FOUND)
if candidates is None:
    st.caption("Mine candidates to start the queue. " + hint(KEYS[:2]))
else:
    queue(candidates)

st.subheader("Confirmed hard negatives per query")
confirmed = hardnegatives.confirmed(db)
if confirmed.empty:
    st.caption("None yet.")
for query_id, group in confirmed.groupby("query_id", sort=True):
    with st.expander(f"{escape(query_id, 60)}: {escape(group['query'].iloc[0])} ({len(group)})"):
        if see_all(query_id, limit=60) or see_all(group["query"].iloc[0]):
            st.text(f"{query_id}: {group['query'].iloc[0]}")  # the label cut them: here in full
        st.dataframe(group[["doc_id", "title", "grade", "reviewers"]], hide_index=True)
