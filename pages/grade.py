"""Grade: a reviewer grades a query's candidate documents 0–5, from the keyboard."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import FlywheelError
from core.labeling import grading, guidelines, judge, logs
from core.labeling.labels import GRADE_MEANINGS
from core.labeling.llm import make_client
from core.search.retrieval import SearchMode
from core.storage.auth import Action, minimum_role
from ui import auth
from ui import grading as ui
from ui.common import require_reviewer, settings, show_error, store, user
from ui.keys import hint, key_help
from ui.safe_text import code, escape, see_all

SUGGESTION_COLUMNS = ["doc_id", "agent", "grade", "score", "reason"]

st.title("Grade relevance")
name = require_reviewer()
db = store()
key_help("Grade", ui.KEYS)
mine_so_far = grading.my_progress(db, name)
today, queries_today = mine_so_far["today"], mine_so_far["queries_today"]
st.caption(f"**My progress**: {today} grade{'s' * (today != 1)} on {queries_today} quer{'ies' if queries_today != 1 else 'y'} today · "
           f"{mine_so_far['week']} this week · {hint([('0–5', 'grade'), ('H', 'hard negative'), ('Q', 'next query')])}")

try:
    ui.apply_link()  # ?queue=segment&segment=source:log, from the Results page's guidance
except FlywheelError as error:
    show_error(error)
linked = st.session_state.get(ui.STRATEGY) == grading.Strategy.segment.value
with st.expander("Queue and view settings", expanded=linked):
    left, middle, right = st.columns(3)
    mode = left.selectbox("Candidates from", [mode.value for mode in (SearchMode.hybrid, SearchMode.vector, SearchMode.fts)], key="g_mode")
    k = left.number_input("Candidates per query (k)", 1, 100, 10, key="g_k")
    strategy = middle.selectbox("What to grade next", [s.value for s in grading.Strategy], key=ui.STRATEGY, on_change=ui.on_queue_change,
                                help="Ungraded: fewest grades first. Most uncertain: the retriever's top scores are close, or it "
                                     "disagrees with the trained cross-encoder, or production users gave it thumbs-down. "
                                     "Thumbs-down first: queries whose logged answers got the most thumbs-down. "
                                     "Overlap: queries another reviewer finished, to measure agreement. "
                                     "One segment: only the queries of one source, origin, query style or split, fewest grades first.")
    segment = ui.segment_selector(middle, strategy)
    overlap = middle.slider("Overlap share", 0.0, 1.0, 0.2, 0.05, key="g_overlap",
                            help="Share of finished queries also given to a second reviewer, so agreement can be measured.")
    view = right.radio("View", ["One at a time", "List"], key="g_view")
st.session_state[ui.OPTIONS] = {"k": int(k), "mode": mode, "strategy": strategy, "overlap": float(overlap), "segment": segment}
if strategy in (grading.Strategy.audit.value, grading.Strategy.audit_logs.value):
    st.caption(":material/shuffle: Audit sample: queries come in a fixed random order. Grade every candidate, in order and without "
               "suggestions: estimates with a judge (Results) are valid only on a random sample, so a skipped query holds the rest back.")

toggles = st.columns(3)
blind = toggles[0].toggle("Blind mode", value=True, key="g_blind", help="Hide model scores and other reviewers' grades while grading.")
suggest = toggles[1].toggle("Show suggestions", value=False, key="g_suggest",
                            help="A model's grade as a badge on its button (the trained re-ranker's, or an LLM judge's), its reason on "
                                 "hover; Enter accepts it. Production-log signals (agent `logs`) too. Never counted as judgments.")

try:
    unsure = None
    if strategy == grading.Strategy.uncertain.value:
        run = judge.latest_cross_encoder(db)
        unsure = ui.uncertainty(settings().db_uri, int(k), run["model_path"] if run else "")
    thumbs = logs.thumbs_down_share(db) if strategy == grading.Strategy.thumbs_down.value else None
    item = ui.acquire(unsure, thumbs)
    if item is None:
        if segment:
            st.success(f"Nothing left to grade in {escape(grading.Segment.parse(segment).label, 200)}: every query of it is graded or "
                       "held by another reviewer. Pick another segment or queue.")
            st.stop()
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
           + f" · you graded {sum(r['doc_id'] in mine for r in rows)} of {len(rows)} candidates", help=see_all(qid))
st.caption(ui.legend(qid))
if st.session_state.get(ui.DONE):
    st.success(f"Finished “{escape(st.session_state[ui.DONE][1], 120)}”: the next query is loaded.",
               icon=":material/check_circle:")
if st.session_state.get(ui.NOTICE):
    st.info(st.session_state.pop(ui.NOTICE), icon=":material/info:")
if st.session_state.get(ui.ERROR):
    (st.warning if st.session_state.get(ui.LEAVING) == qid else st.error)(escape(st.session_state[ui.ERROR], 2000))
later = [q for q in st.session_state.get(ui.LATER, []) if q != qid]
if later:
    with st.expander(f":material/schedule: Come back later ({len(later)})"):
        for query_id in later:
            line = st.columns([5, 1], vertical_alignment="center")
            line[0].text(grading.query_text(db, query_id))
            line[1].button("Reopen", key=f"g_reopen::{query_id}", on_click=ui.come_back, args=(query_id,))
if not rows:
    st.warning("No candidates for this query: add documents, or pick another retrieval mode.")
    st.button("Next query", on_click=ui.leave_query, shortcut="q")
    st.stop()


def offered_suggestions() -> pd.DataFrame:
    """The query's stored suggestions. The offline one (the trained re-ranker's, else the retriever's) is made
    on first sight: turning suggestions on is enough to see them, on the grade buttons."""
    if not suggest:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    found = judge.suggestions_for(db, qid)
    run = judge.latest_cross_encoder(db)
    if (f"cross-encoder:{run['run_id']}" if run else "retriever") not in set(found["agent"]):
        judge.offline_suggest(db, qid, rows, ui.cross_encoder(run["model_path"]) if run else None, run["run_id"] if run else "")
        found = judge.suggestions_for(db, qid)
    return found


def suggestion(doc_id: str) -> tuple[int | None, str, list[str], list[str]]:
    """(the grade to offer: the first suggestion that has one, the agent that made it, the graded suggestions in plain
    words (the badge's hover), the others (a similarity, never a grade: shown only when not blind, it is a model score))."""
    described = [(judge.describe(s), s["agent"]) for s in suggestions[suggestions["doc_id"] == doc_id].to_dict("records")]
    grade, agent = next(((g, agent) for (g, _), agent in described if g is not None), (None, ""))
    return (grade, agent, [words for (g, words), _ in described if words and g is not None],
            [words for (g, words), _ in described if words and g is None])


@st.cache_data(ttl=60, show_spinner=False)
def track_records(uri: str, versions: tuple) -> dict:
    """How often each suggesting agent agreed with people here, read once per state of the two tables."""
    return judge.track_records(db)


def ask_judge() -> None:
    """The LLM judge costs a call per document: asked for by the reviewer, for this query, beside the toggle."""
    try:
        with st.spinner("Asking the LLM judge…"):
            judge.llm_suggest(db, make_client(settings()), qid, [r["doc_id"] for r in rows])
    except FlywheelError as error:
        st.session_state[ui.ERROR] = str(error)


try:
    suggestions = offered_suggestions()
    if suggest and settings().llm:
        toggles[2].button(f"Ask the LLM judge ({settings().llm})", key="g_judge", on_click=ask_judge, icon=":material/gavel:")
except FlywheelError as error:
    show_error(error)
    suggestions = pd.DataFrame(columns=SUGGESTION_COLUMNS)


def side_info(doc_id: str) -> None:
    """Model scores and other reviewers: only what the reviewer asked to see."""
    row = next(r for r in rows if r["doc_id"] == doc_id)
    if not blind:
        others = grading.judgments_for(db, qid)
        others = others[(others["doc_id"] == doc_id) & (others["reviewer"] != name)]
        st.caption(f"Retriever score {row['score']:.3f} (rank {row['rank']}) · others: "
                   + (", ".join(f"{escape(r, 40)}: {g}" for r, g in zip(others["reviewer"], others["grade"], strict=False)) or "none yet"),
                   help=see_all(*others["reviewer"], limit=40))


def guidelines_panel() -> None:
    """The workspace's grading guidelines beside the document, as plain text; engineers and admins edit them (logged)."""
    text, who, when = guidelines.read(db)
    with st.container(border=True, height=520, key="g_guidelines"):
        st.markdown("**Guidelines**")
        st.markdown(escape(text, None))  # text with its line breaks: no markdown, link or image from whoever edited it
        st.caption(f"Edited by {escape(who, 40)}, {when:%Y-%m-%d %H:%M} UTC" if who else "The default guidelines: edit them for your team.",
                   help=see_all(who, limit=40))
        if not auth.can(Action.edit_guidelines):
            st.caption(f"Editing them needs the {minimum_role(Action.edit_guidelines).value} role.")
            return
        with st.popover("Edit", icon=":material/edit:"):
            with st.form("g_guidelines_form", border=False):
                new = st.text_area("Guidelines (plain text)", value=text, height=360)
                if st.form_submit_button("Save"):
                    try:
                        guidelines.save(db, user(), new)
                        st.rerun()
                    except FlywheelError as error:
                        show_error(error)


if view == "One at a time":
    pos = min(st.session_state.get(ui.POS, 0), len(rows) - 1)
    doc = rows[pos]
    ui.sync_widgets(qid, doc["doc_id"], mine.get(doc["doc_id"], {}))
    flagged = st.session_state[ui.flag_key(qid, doc["doc_id"])]
    st.progress((pos + 1) / len(rows), text=f"Document {pos + 1} of {len(rows)}")
    suggested, agent, said, similar = suggestion(doc["doc_id"])
    tip = "  \n\n".join(said) + "  \n\nPress **Enter** to accept it, or any grade key."
    buttons = st.container(horizontal=True, key="g_grades")  # full labels, wrapping when narrow
    for g in grading.GRADES:  # a suggestion is a badge on its grade, its reason on hover: nothing is stored until a key
        buttons.button(f"{g} · {GRADE_MEANINGS[g].split(':')[0]}" + (" :violet-badge[suggested]" if g == suggested else ""),
                       key=f"grade_{g}", shortcut=str(g), on_click=ui.on_grade, args=(g,),
                       type="primary" if mine.get(doc["doc_id"], {}).get("grade") == g else "secondary", help=tip if g == suggested else None)
    actions = st.columns(6 if suggested is not None else 5)
    if suggested is not None:
        actions[0].button(f"Accept {suggested}", key="g_accept", shortcut="Enter", on_click=ui.on_grade, args=(suggested,),
                          kwargs={"origin": agent}, help=tip, width="stretch", icon=":material/lightbulb:")
    actions = actions[-5:]
    actions[0].button(("☑ Hard negative" if flagged else "☐ Hard negative"), key="g_flag", shortcut="h", on_click=ui.on_flag, width="stretch")
    actions[1].button("Previous", key="g_prev", shortcut="p", on_click=ui.move, args=(-1,), width="stretch")
    actions[2].button("Next", key="g_next", shortcut="n", on_click=ui.move, args=(1,), width="stretch")
    actions[3].button("Undo", key="g_undo", shortcut="u", on_click=ui.on_undo, width="stretch")
    actions[4].button("Next query", key="g_query", shortcut="q", on_click=ui.on_leave, width="stretch")
    for words in ([] if blind else similar):
        st.caption(f":material/lightbulb: {words}")
    record = judge.record_words(track_records(db.uri, (db.version("suggestions"), db.version("judgments"))).get(agent)) if agent else ""
    if suggested is not None and record:
        st.caption(f":material/verified: {escape(record, 300)}")
    current = mine.get(doc["doc_id"])
    status = f"Your grade: **{current['grade']}** ({GRADE_MEANINGS[current['grade']]})" if current else "Not graded by you yet"
    st.markdown(f"{status}{' · flagged hard negative' if flagged else ''}")
    left, right = st.columns([3, 1.3])
    with left:
        with st.container(border=True, key="g_document"):
            st.caption(code(doc["doc_id"]), help=see_all(doc["doc_id"]))
            ui.show_document(doc["title"], doc["text"], query)
        st.text_input("Note (saved with the grade)", key=ui.note_key(qid, doc["doc_id"]))
        side_info(doc["doc_id"])
    with right:
        guidelines_panel()
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
            for words in suggestion(doc["doc_id"])[2] + ([] if blind else suggestion(doc["doc_id"])[3]):
                st.caption(words)
    st.button("Next query", key="g_query", shortcut="q", on_click=ui.on_leave)

# Last, once the page is drawn: on the query's last document the next query is claimed and fetched in the background.
if (view == "One at a time" and pos == len(rows) - 1) or (view != "One at a time" and sum(r["doc_id"] in mine for r in rows) >= len(rows) - 1):
    ui.prefetch(qid, unsure, thumbs)
