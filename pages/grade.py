"""Grade: a reviewer grades a query's candidate documents 0–5, from the keyboard."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.labeling import grading, judge, logs
from core.labeling.labels import GRADE_MEANINGS
from core.labeling.llm import make_client
from core.search.retrieval import SearchMode
from ui import grading as ui
from ui.common import require_reviewer, settings, show_error, store
from ui.safe_text import code, escape

st.title("Grade relevance")
name = require_reviewer()
db = store()

with st.expander("Queue and view settings"):
    left, middle, right = st.columns(3)
    mode = left.selectbox("Candidates from", [mode.value for mode in (SearchMode.hybrid, SearchMode.vector, SearchMode.fts)], key="g_mode")
    k = left.number_input("Candidates per query (k)", 1, 100, 10, key="g_k")
    strategy = middle.selectbox("What to grade next", [s.value for s in grading.Strategy], key="g_strategy",
                                help="Ungraded: fewest grades first. Most uncertain: the retriever's top scores are close, or it "
                                     "disagrees with the trained cross-encoder, or production users gave it thumbs-down. "
                                     "Thumbs-down first: queries whose logged answers got the most thumbs-down. "
                                     "Overlap: queries another reviewer finished, to measure agreement.")
    overlap = middle.slider("Overlap share", 0.0, 1.0, 0.2, 0.05, key="g_overlap",
                            help="Share of finished queries also given to a second reviewer, so agreement can be measured.")
    view = right.radio("View", ["One at a time", "List"], key="g_view")
st.session_state[ui.OPTIONS] = {"k": int(k), "mode": mode, "strategy": strategy, "overlap": float(overlap)}

toggles = st.columns(3)
blind = toggles[0].toggle("Blind mode", value=True, key="g_blind", help="Hide model scores and other reviewers' grades while grading.")
suggest = toggles[1].toggle("Show suggestions", value=False, key="g_suggest",
                            help="Model pre-grades and production-log signals (agent `logs`: cited or clicked, or ranked high "
                                 "under a thumbs-down); never counted as judgments.")

try:
    unsure = None
    if strategy == grading.Strategy.uncertain.value:
        run = judge.latest_cross_encoder(db)
        unsure = ui.uncertainty(settings().db_uri, int(k), run["model_path"] if run else "")
    item = ui.acquire(unsure, logs.thumbs_down_share(db) if strategy == grading.Strategy.thumbs_down.value else None)
    if item is None:
        st.success("Nothing left to grade: every approved query is graded or held by another reviewer. Check back later, "
                   "or switch the strategy to 'overlap first' to give second opinions.")
        st.stop()
    rows = ui.candidates(item.query_id)
    query = grading.query_text(db, item.query_id)
except FlywheelError as error:
    show_error(error)
    st.stop()

mine = grading.judgments_for(db, item.query_id, name).set_index("doc_id").to_dict("index")
qid = item.query_id
st.markdown(f"### {escape(query, None)}")
st.caption(f"Query {code(qid)}" + (" · second opinion (overlap sample, for agreement)" if item.queue == grading.OVERLAP_QUEUE else "")
           + f" · you graded {sum(r['doc_id'] in mine for r in rows)} of {len(rows)} candidates")
st.caption(ui.legend())
if st.session_state.get(ui.ERROR):
    st.error(escape(st.session_state[ui.ERROR], 2000))
if not rows:
    st.warning("No candidates for this query: add documents, or pick another retrieval mode.")
    st.button("Next query", on_click=ui.leave_query, shortcut="q")
    st.stop()


def side_info(doc_id: str) -> None:
    """Model scores, other reviewers and suggestions: only what the reviewer asked to see."""
    row = next(r for r in rows if r["doc_id"] == doc_id)
    if not blind:
        others = grading.judgments_for(db, qid)
        others = others[(others["doc_id"] == doc_id) & (others["reviewer"] != name)]
        st.caption(f"Retriever score {row['score']:.3f} (rank {row['rank']}) · others: "
                   + (", ".join(f"{escape(r, 40)}: {g}" for r, g in zip(others["reviewer"], others["grade"], strict=False)) or "none yet"))
    if suggest:
        found = judge.suggestions_for(db, qid)
        for s in found[found["doc_id"] == doc_id].to_dict("records"):
            grade = "" if s["grade"] is None or s["grade"] != s["grade"] else f"grade {int(s['grade'])} "
            score = "" if s["score"] is None or s["score"] != s["score"] else f"score {s['score']:.3f} "
            st.caption(f"Suggestion from {code(s['agent'])}: {grade}{score}{escape(s['reason'], 500)}")


if view == "One at a time":
    pos = min(st.session_state.get(ui.POS, 0), len(rows) - 1)
    doc = rows[pos]
    ui.sync_widgets(qid, doc["doc_id"], mine.get(doc["doc_id"], {}))
    flagged = st.session_state[ui.flag_key(qid, doc["doc_id"])]
    st.progress((pos + 1) / len(rows), text=f"Document {pos + 1} of {len(rows)}")
    buttons = st.columns(6)
    for g in grading.GRADES:
        buttons[g].button(f"{g} · {GRADE_MEANINGS[g].split(':')[0]}", key=f"grade_{g}", shortcut=str(g), on_click=ui.on_grade, args=(g,),
                          type="primary" if mine.get(doc["doc_id"], {}).get("grade") == g else "secondary", width="stretch")
    actions = st.columns(5)
    actions[0].button(("☑ Hard negative" if flagged else "☐ Hard negative"), key="g_flag", shortcut="h", on_click=ui.on_flag, width="stretch")
    actions[1].button("Previous", key="g_prev", shortcut="p", on_click=ui.move, args=(-1,), width="stretch")
    actions[2].button("Next", key="g_next", shortcut="n", on_click=ui.move, args=(1,), width="stretch")
    actions[3].button("Undo", key="g_undo", shortcut="u", on_click=ui.on_undo, width="stretch")
    actions[4].button("Next query", key="g_query", shortcut="q", on_click=ui.leave_query, width="stretch")
    current = mine.get(doc["doc_id"])
    status = f"Your grade: **{current['grade']}** ({GRADE_MEANINGS[current['grade']]})" if current else "Not graded by you yet"
    st.markdown(f"{status}{' · flagged hard negative' if flagged else ''}", help="Keys: 0–5 grade · h hard negative · p/n previous/next · u undo · q next query")
    with st.container(border=True, key="g_document"):
        st.caption(code(doc["doc_id"]))
        ui.show_document(doc["title"], doc["text"], query)
    st.text_input("Note (saved with the grade)", key=ui.note_key(qid, doc["doc_id"]))
    side_info(doc["doc_id"])
else:
    for doc in rows:
        ui.sync_widgets(qid, doc["doc_id"], mine.get(doc["doc_id"], {}))
        with st.container(border=True):
            ui.show_document(doc["title"], doc["text"], query)
            cols = st.columns([3, 1, 3])
            key = f"lg::{qid}::{doc['doc_id']}"
            if key not in st.session_state and doc["doc_id"] in mine:
                st.session_state[key] = int(mine[doc["doc_id"]]["grade"])
            cols[0].segmented_control("Grade", list(grading.GRADES), key=key, on_change=ui.on_list_grade, args=(qid, doc["doc_id"]))
            cols[1].checkbox("Hard negative", key=ui.flag_key(qid, doc["doc_id"]), on_change=ui.on_list_grade, args=(qid, doc["doc_id"]))
            cols[2].text_input("Note", key=ui.note_key(qid, doc["doc_id"]), on_change=ui.on_list_grade, args=(qid, doc["doc_id"]))
            side_info(doc["doc_id"])
    st.button("Next query", key="g_query", shortcut="q", on_click=ui.leave_query)

if suggest:
    cfg = settings()
    cols = st.columns(2)
    try:
        if cfg.llm and cols[0].button(f"Ask the LLM judge ({cfg.llm}) for this query"):
            with st.spinner("Asking the LLM judge…"):
                judge.llm_suggest(db, make_client(cfg), qid, [r["doc_id"] for r in rows])
            st.rerun()
        if not cfg.llm:
            cols[0].caption("No LLM configured (FLYWHEEL_LLM): offline suggestions only.")
        run = judge.latest_cross_encoder(db)
        if cols[1].button("Offline suggestions (" + (f"cross-encoder {run['run_id']}" if run else "retriever score") + ")"):
            judge.offline_suggest(db, qid, rows, ui.cross_encoder(run["model_path"]) if run else None, run["run_id"] if run else "")
            st.rerun()
    except FlywheelError as error:
        show_error(error)
