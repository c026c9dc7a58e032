"""Streamlit plumbing for the grade page: session state of one grading sitting, the button
callbacks (so a grade is stored before the next document renders), and readable documents.

Only view state lives in st.session_state (which query, which document); every grade goes
to the store at once through core.labeling.grading.
"""

from __future__ import annotations

import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor

import streamlit as st

from core.errors import FlywheelError
from core.labeling import grading
from core.labeling.labels import GRADE_MEANINGS, query_scale, scale_note
from core.search.retrieval import SearchMode
from core.storage import claims
from ui.common import embedder, reviewer, store
from ui.highlight import highlighted_html
from ui.progress import embed_corpus

ITEM, POS, SKIP, CANDS, ERROR, TARGET, OPTIONS = "g_item", "g_pos", "g_skip", "g_cands", "g_error", "grade_target", "g_options"
PREFETCH = "g_prefetch"  # the next query, claimed and fetched in the background while the last document is read
LEAVING, LATER = "g_leaving", "g_later"  # the query whose q asked for confirmation; queries left half graded
DONE, NOTICE = "g_done", "g_notice"  # (query id, text) just finished by grading its last document; a one-off note
STRATEGY, SEGMENT, LINKED = "g_strategy", "g_segment", "g_linked"  # the queue selector, its segment, the last link applied
KEYS = [("0–5", "grade (0 irrelevant … 5 exactly answers)"), ("Enter", "accept the suggested grade, when shown"),
        ("H", "hard negative on/off"), ("P / N", "previous / next document"), ("U", "undo your last grade"),
        ("Q", "next query (asks first when this one is half graded)")]
COLLAPSE_AT = 900  # characters of a document shown before "show the whole document"


def show_document(title: str, text: str, query: str) -> None:
    st.html(f"<h5>{highlighted_html(title or '(untitled)', query)}</h5>")
    if len(text) <= COLLAPSE_AT:
        st.html(f"<div>{highlighted_html(text, query)}</div>")
        return
    cut = text.rfind(" ", 0, COLLAPSE_AT)
    st.html(f"<div>{highlighted_html(text[: cut if cut > 0 else COLLAPSE_AT], query)} …</div>")
    with st.expander(f"Show the whole document ({len(text):,} characters)"):
        st.html(f"<div>{highlighted_html(text, query)}</div>")


def legend(query_id: str) -> str:
    """The 0–5 meanings, and how they read on the query's own scale when it was imported on another."""
    note = scale_note(query_scale(store(), query_id))
    return " · ".join(f"**{g}** {m.split(':')[0]}" for g, m in GRADE_MEANINGS.items()) + (f"  \n{note}" if note else "")


# -- the sitting: current query, its candidates, the current document ---------------------
def options() -> dict:
    return st.session_state.get(OPTIONS, {"k": 10, "mode": "hybrid", "strategy": grading.Strategy.ungraded.value, "overlap": 0.2,
                                          "segment": None})


def segment_link(segment: str) -> dict[str, str]:
    """The Grade page's query parameters for one segment's queue: ?queue=segment&segment=source:log."""
    return {"queue": "segment", "segment": str(grading.Segment.parse(segment))}


def apply_link() -> None:
    """A link to a segment's queue selects it, once (the selector rules afterwards); the query on screen is put back."""
    params = st.query_params
    if params.get("queue") != "segment" or not params.get("segment") or st.session_state.get(LINKED) == params["segment"]:
        return
    spec = str(grading.Segment.parse(params["segment"]))
    st.session_state[LINKED] = params["segment"]
    st.session_state[STRATEGY], st.session_state[SEGMENT] = grading.Strategy.segment.value, spec
    leave_query(skip=False)


def show_queue_in_url(strategy: str, segment: str | None) -> None:
    """The URL names a segment queue while one is chosen, so it can be shared; other queues leave no parameters."""
    if strategy == grading.Strategy.segment.value and segment:
        if st.query_params.get("segment") != segment:
            st.query_params.update(segment_link(segment))
            st.session_state[LINKED] = segment
    elif "queue" in st.query_params:
        del st.query_params["queue"]
        st.query_params.pop("segment", None)
        st.session_state.pop(LINKED, None)


def segment_selector(container, strategy: str) -> str | None:
    """Under the segment queue, which segment (every one-column segment, and each within the eval split); the URL follows."""
    segment = None
    if strategy == grading.Strategy.segment.value:
        choices = grading.segment_options(store())
        if st.session_state.get(SEGMENT) and st.session_state[SEGMENT] not in choices:
            choices.append(st.session_state[SEGMENT])  # a linked segment with no query left still shows what was asked
        segment = container.selectbox("Segment", choices, key=SEGMENT, format_func=lambda s: grading.Segment.parse(s).label,
                                      on_change=leave_query, kwargs={"skip": False})
    show_queue_in_url(strategy, segment)
    return segment


def on_queue_change() -> None:
    """Another queue: the query on screen goes back (not skipped), and the next one comes from the new queue."""
    if st.session_state.get(STRATEGY) == grading.Strategy.segment.value:
        leave_query(skip=False)


def current_item() -> grading.QueueItem | None:
    value = st.session_state.get(ITEM)
    return grading.QueueItem(*value) if value else None


# -- prefetch: the next query ready before the current one is finished ---------------------
PREFETCH_FRESH = claims.DEFAULT_TTL / 2  # older than this, a prefetched claim is given back and the next query claimed anew
_PREFETCHER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="grade-prefetch")  # one per process, like store()


def _queue_key(opts: dict) -> tuple:
    """The settings a prefetched query was chosen under: another queue, k or mode makes it stale."""
    return opts["strategy"], opts.get("segment"), opts["k"], opts["mode"], opts["overlap"]


def _give_back(future: Future, db, name: str) -> None:
    """Release the prefetched claim once the fetch is over, always on the prefetch pool: the
    finalizer runs in whichever thread collects the session, LanceDB's own event loop included,
    where a store call would wait on itself forever."""
    def release(done: Future) -> None:
        if not done.cancelled() and done.exception() is None and done.result()[0] is not None:
            _PREFETCHER.submit(grading.release, db, name, done.result()[0])

    future.add_done_callback(release)


class Prefetch:
    """A prefetched query held in the session. Dropping it gives the claim back (the release path of
    core.storage.claims): when the queue settings change, when it goes stale, and when the session
    itself ends (the reviewer left) and Streamlit discards its state."""

    def __init__(self, key: tuple, after: str, future: Future, db, name: str) -> None:
        self.key, self.after, self.future, self.started = key, after, future, time.monotonic()
        self.drop = weakref.finalize(self, _give_back, future, db, name)


def prefetch(current: str, uncertainty: dict[str, float] | None = None, thumbs_down: dict[str, float] | None = None) -> None:
    """On the query's last document: claim the next query and fetch its candidates in the background,
    so the grade that finishes this one only reads a ready result (issue 18: <= 150 ms server time)."""
    opts, held = options(), st.session_state.get(PREFETCH)
    if held is not None and held.after == current and held.key == _queue_key(opts):
        return
    discard_prefetch()
    db, name = store(), reviewer()
    model = None if opts["mode"] == SearchMode.fts.value else embedder("")
    segment = opts.get("segment") if opts["strategy"] == grading.Strategy.segment.value else None
    future = _PREFETCHER.submit(grading.prefetch_next, db, model, name, opts["strategy"], k=opts["k"], mode=opts["mode"],
                                skip=[*st.session_state.get(SKIP, []), current], overlap_share=opts["overlap"],
                                uncertainty=uncertainty, thumbs_down=thumbs_down, segment=segment)
    st.session_state[PREFETCH] = Prefetch(_queue_key(opts), current, future, db, name)


def discard_prefetch(keep: str | None = None) -> None:
    """Forget the prefetched query and give its claim back (unless it is `keep`, which the reviewer now opens)."""
    held = st.session_state.pop(PREFETCH, None)
    if held is None:
        return
    if keep is not None and held.future.exception() is None:  # waits for a fetch under way: its claim may be the one kept
        item = held.future.result()[0]
        if item is not None and item.query_id == keep:
            held.drop.detach()
            return
    held.drop()


def _take_prefetch() -> bool:
    """Open the prefetched query, if it is still what the queue would give now; False: claim one the slow way."""
    held, opts = st.session_state.get(PREFETCH), options()
    if held is None or held.key != _queue_key(opts) or time.monotonic() - held.started > PREFETCH_FRESH.total_seconds():
        discard_prefetch()
        return False
    try:
        item, rows = held.future.result()  # ready unless the reviewer was faster than the fetch: then it waits for it
    except Exception:  # noqa: BLE001 - the slow path runs the same calls again and shows their error
        discard_prefetch()
        return False
    if item is None or item.query_id in st.session_state.get(SKIP, []):
        discard_prefetch()
        return False
    st.session_state.pop(PREFETCH).drop.detach()
    st.session_state[ITEM], st.session_state[POS] = (item.queue, item.query_id), 0
    st.session_state[CANDS] = ((item.query_id, opts["k"], opts["mode"]), rows.to_dict("records"))
    _PREFETCHER.submit(claims.try_claim, store(), item.queue, item.query_id, reviewer())  # its own: renewed for the full lease
    return True


def acquire(uncertainty: dict[str, float] | None = None, thumbs_down: dict[str, float] | None = None) -> grading.QueueItem | None:
    """The query to grade: a re-grade target, the one in progress, or the next one claimed from the queue."""
    db, name, opts = store(), reviewer(), options()
    target = st.session_state.pop(TARGET, None)
    held = st.session_state.get(PREFETCH)
    if held is not None and held.key != _queue_key(opts):
        discard_prefetch()
    if target:
        leave_query(skip=False)
        query_id, doc_id = target
        discard_prefetch(keep=query_id)
        claims.try_claim(db, grading.QUEUE, query_id, name)  # an explicit re-grade is allowed even when held
        st.session_state[ITEM] = (grading.QUEUE, query_id)
        if doc_id:
            st.session_state["g_focus"] = doc_id
    if not st.session_state.get(ITEM) and not _take_prefetch():
        segment = opts.get("segment") if opts["strategy"] == grading.Strategy.segment.value else None
        item = grading.next_query(db, name, opts["strategy"], k=opts["k"], overlap_share=opts["overlap"], uncertainty=uncertainty,
                                  thumbs_down=thumbs_down, segment=segment, mode=opts["mode"],
                                  skip=st.session_state.get(SKIP, []))
        if item is None:
            return None
        st.session_state[ITEM], st.session_state[POS] = (item.queue, item.query_id), 0
    return current_item()


def candidates(query_id: str) -> list[dict]:
    """The query's candidates, fetched once per query and settings (grading must not reshuffle them)."""
    opts = options()
    focus = st.session_state.get("g_focus")
    key = (query_id, opts["k"], opts["mode"])
    cached = st.session_state.get(CANDS)
    if not cached or cached[0] != key or (focus and focus not in [r["doc_id"] for r in cached[1]]):
        model = None if opts["mode"] == SearchMode.fts.value else embedder("")
        if model is not None:
            embed_corpus(store(), model)  # a bar on a first visit, instead of a blank page while the corpus embeds
        rows = grading.candidates(store(), model, query_id, opts["k"], opts["mode"], include=[focus] if focus else ()).to_dict("records")
        st.session_state[CANDS] = (key, rows)
    rows = st.session_state[CANDS][1]
    if focus:
        st.session_state.pop("g_focus")
        st.session_state[POS] = next((i for i, r in enumerate(rows) if r["doc_id"] == focus), 0)
    return rows


def _doc() -> tuple[str, str] | None:
    item, cached = current_item(), st.session_state.get(CANDS)
    if item is None or not cached:
        return None
    rows, pos = cached[1], st.session_state.get(POS, 0)
    return (item.query_id, rows[pos]["doc_id"]) if 0 <= pos < len(rows) else None


def note_key(query_id: str, doc_id: str) -> str:
    return f"note::{query_id}::{doc_id}"


def flag_key(query_id: str, doc_id: str) -> str:
    return f"hn::{query_id}::{doc_id}"


def _guard(action) -> None:
    st.session_state.pop(ERROR, None)
    st.session_state.pop(DONE, None)  # any other key after an auto-advance: the 'query done' note has been read
    try:
        action()
    except FlywheelError as error:
        st.session_state[ERROR] = str(error)


def leave_query(skip: bool = True) -> None:
    item = current_item()
    if item is not None:
        grading.release(store(), reviewer(), item)
        if skip:
            st.session_state.setdefault(SKIP, []).append(item.query_id)
    st.session_state[ITEM], st.session_state[POS] = None, 0


def graded_counts() -> tuple[int, int]:
    """(candidates this reviewer graded, candidates) of the query on screen."""
    item, cached = current_item(), st.session_state.get(CANDS)
    if item is None or not cached:
        return 0, 0
    mine = set(grading.judgments_for(store(), item.query_id, reviewer())["doc_id"])
    return sum(r["doc_id"] in mine for r in cached[1]), len(cached[1])


def on_leave() -> None:
    """q: leave the query. Half graded, the first q asks; the second leaves it marked 'come back later'.
    Untouched, it is simply skipped (nothing to come back to)."""
    item = current_item()
    finished = st.session_state.pop(DONE, None)
    if finished is not None and item is not None and item.query_id != finished[0]:
        # The last grade already moved on: this Q means "next query", and this is it (issue 24: it skipped the new one).
        st.session_state[NOTICE] = "You are on the next query already: the last one was finished. Press Q again to skip this one."
        return
    done, total = graded_counts()
    if item is not None and 0 < done < total and st.session_state.get(LEAVING) != item.query_id:
        st.session_state[LEAVING] = item.query_id
        st.session_state[ERROR] = (f"You graded {done} of {total} candidates of this query. Press q again to leave it for now "
                                   "(it is listed under 'Come back later'), or keep grading.")
        return
    st.session_state.pop(LEAVING, None)
    st.session_state.pop(ERROR, None)
    if item is not None and 0 < done < total:
        later = st.session_state.setdefault(LATER, [])
        if item.query_id not in later:
            later.append(item.query_id)
    leave_query()


def come_back(query_id: str) -> None:
    """Reopen a query left half graded."""
    st.session_state[LATER] = [q for q in st.session_state.get(LATER, []) if q != query_id]
    st.session_state[SKIP] = [q for q in st.session_state.get(SKIP, []) if q != query_id]
    st.session_state[TARGET] = (query_id, None)


def move(step: int) -> None:
    st.session_state.pop(DONE, None)
    rows = (st.session_state.get(CANDS) or (None, []))[1]
    pos = st.session_state.get(POS, 0) + step
    if pos >= len(rows):
        item = current_item()
        done, total = graded_counts()
        if item is not None and done == total:  # finished: the next query opens at once; the page says so, and Q knows
            st.session_state[DONE] = (item.query_id, grading.query_text(store(), item.query_id))
        leave_query()
    else:
        st.session_state[POS] = max(pos, 0)


def on_grade(value: int, origin: str = "") -> None:
    """A grade key (or Enter on a suggestion: `origin` is its agent, kept with the grade)."""
    def act() -> None:
        current = _doc()
        if current is None:
            return
        query_id, doc_id = current
        grading.grade(store(), reviewer(), query_id, doc_id, value, hard_negative=bool(st.session_state.get(flag_key(*current))),
                      note=st.session_state.get(note_key(*current), ""), origin=origin)
        st.session_state.pop(LEAVING, None)
        move(+1)

    _guard(act)


def on_flag() -> None:
    def act() -> None:
        current = _doc()
        if current is None:
            return
        flag = not st.session_state.get(flag_key(*current), False)
        st.session_state[flag_key(*current)] = flag
        grading.set_hard_negative(store(), reviewer(), *current, flag)  # stored at once when already graded

    _guard(act)


def on_undo() -> None:
    def act() -> None:
        undone = grading.undo_last(store(), reviewer())
        if undone is None:
            st.session_state[ERROR] = "Nothing to undo."
            return
        st.session_state.pop(flag_key(*undone), None)
        st.session_state.pop(note_key(*undone), None)
        item = current_item()
        if item is not None and item.query_id == undone[0]:
            st.session_state["g_focus"] = undone[1]
        else:
            st.session_state[TARGET] = undone

    _guard(act)


def sync_widgets(query_id: str, doc_id: str, mine: dict) -> None:
    """Seed the note and flag of a document from the reviewer's stored judgment, once."""
    if flag_key(query_id, doc_id) not in st.session_state:
        st.session_state[flag_key(query_id, doc_id)] = bool(mine.get("hard_negative", False))
    if note_key(query_id, doc_id) not in st.session_state:
        st.session_state[note_key(query_id, doc_id)] = str(mine.get("note", "") or "")


def on_list_grade(query_id: str, doc_id: str) -> None:
    """List view: a grade picked in a row's segmented control is stored at once."""
    value = st.session_state.get(f"lg::{query_id}::{doc_id}")
    if value is None:
        return
    _guard(lambda: grading.grade(store(), reviewer(), query_id, doc_id, int(value),
                                 hard_negative=bool(st.session_state.get(flag_key(query_id, doc_id))),
                                 note=st.session_state.get(note_key(query_id, doc_id), "")))


@st.cache_resource(show_spinner="Loading the cross-encoder…")
def cross_encoder(path: str):
    from core.labeling.judge import load_cross_encoder

    return load_cross_encoder(path)


@st.cache_data(ttl=300, show_spinner="Scoring how unsure the retriever is about each query…")
def uncertainty(db_uri: str, k: int, ce_path: str) -> dict[str, float]:
    """Cached per workspace, k and cross-encoder for five minutes (it embeds every query)."""
    return grading.uncertainty(store(), embedder(""), k=k, cross_encoder=cross_encoder(ce_path) if ce_path else None)
