from __future__ import annotations

import asyncio
import time

from streamlit.testing.v1 import AppTest

from core.labeling import agreement, grading
from core.storage.schemas import Judgment, Query, now
from core.storage.store import Store

GRADE = "../pages/grade.py"
AGREEMENT = "../pages/agreement.py"
HARD = "../pages/hard_negatives.py"


def page(path=GRADE, reviewer="ann", mode="full-text") -> AppTest:
    at = AppTest.from_file(path, default_timeout=120)
    if reviewer:
        at.session_state["reviewer"] = reviewer
    at.session_state["g_mode"] = mode  # full-text keeps most tests free of model loading
    at.session_state["g_k"] = 3
    return at.run()


def shown_doc(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("`d")).strip("`")


def shown_query(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1]


def mine(store: Store, reviewer="ann"):
    return store.read("judgments", where=f"reviewer = '{reviewer}'").set_index("doc_id")


def test_needs_a_reviewer_name(small_store):
    at = page(reviewer="")
    assert not at.exception
    assert "Enter your name" in at.info[0].value
    assert not at.button


def test_grade_keys_store_before_the_next_document(small_store):
    at = page()
    assert not at.exception
    shortcuts = {b.key: b.proto.shortcut for b in at.button}
    assert {shortcuts[f"grade_{g}"] for g in range(6)} == {str(g) for g in range(6)}
    assert (shortcuts["g_flag"], shortcuts["g_prev"], shortcuts["g_next"], shortcuts["g_undo"]) == ("h", "p", "n", "u")
    query, first = shown_query(at), shown_doc(at)
    at.button(key="grade_4").click().run()
    assert mine(small_store).loc[first, "grade"] == 4
    assert shown_doc(at) != first and shown_query(at) == query
    assert small_store.count("events", "action = 'grade' AND actor = 'ann'") == 1


def test_flag_note_and_undo(small_store):
    at = page()
    first = shown_doc(at)
    at.button(key="g_flag").click().run()
    assert any("☑ Hard negative" == b.label for b in at.button)
    at.text_input(key=f"note::{shown_query(at)}::{first}").input("older plan").run()
    at.button(key="grade_0").click().run()
    row = mine(small_store).loc[first]
    assert (row["grade"], bool(row["hard_negative"]), row["note"]) == (0, True, "older plan")
    second = shown_doc(at)
    at.button(key="grade_5").click().run()
    at.button(key="g_undo").click().run()
    assert second not in mine(small_store).index and shown_doc(at) == second  # undo goes back to the undone document
    at.button(key="g_undo").click().run()
    assert mine(small_store).empty and shown_doc(at) == first
    at.button(key="g_undo").click().run()
    assert "Nothing to undo" in at.error[0].value


def test_previous_next_and_regrade_replaces(small_store):
    at = page()
    first = shown_doc(at)
    at.button(key="grade_2").click().run()
    at.button(key="g_prev").click().run()
    assert shown_doc(at) == first and "Your grade: **2**" in " ".join(m.value for m in at.markdown)
    at.button(key="grade_3").click().run()
    assert len(mine(small_store)) == 1 and mine(small_store).loc[first, "grade"] == 3
    at.button(key="g_next").click().run()  # skip the second document ungraded
    assert len(mine(small_store)) == 1


def test_blind_mode_hides_scores_and_other_reviewers(small_store):
    at = page(mode="vector")
    assert at.toggle(key="g_blind").value is True
    text = " ".join(c.value for c in at.caption)
    assert "Retriever score" not in text and "import:small" not in text
    at.toggle(key="g_blind").set_value(False).run()
    text = " ".join(c.value for c in at.caption)
    assert "Retriever score" in text and "import\\:small" in text  # reviewer names are escaped markdown


def test_suggestions_show_only_when_turned_on_and_need_no_button(small_store):
    at = page()
    assert small_store.count("suggestions") == 0
    at.toggle(key="g_suggest").set_value(True).run()  # turned on: the offline suggestions are made for the query at once
    assert not at.exception
    assert small_store.count("suggestions", f"query_id = '{shown_query(at)}' AND agent = 'retriever'") > 0
    assert not any("The retriever finds it" in c.value for c in at.caption)  # a cosine is a model score: blind hides it
    at.toggle(key="g_blind").set_value(False).run()
    assert any("The retriever finds it" in c.value and "not a grade" in c.value for c in at.caption)
    assert not any(b.key == "g_accept" for b in at.button)  # similarity never pre-selects a grade
    assert small_store.count("judgments", "reviewer = 'ann'") == 0


def test_a_model_suggestion_is_a_badge_on_its_grade_never_a_judgment(small_store):
    from core.storage.schemas import Suggestion, now

    at = page()
    query, doc = shown_query(at), shown_doc(at)
    small_store.upsert("suggestions", [Suggestion(query_id=query, doc_id=doc, agent="cross-encoder:r1", grade=4.0, score=2.5,
                                                  created_at=now())])
    at.toggle(key="g_suggest").set_value(True).run()
    badge = at.button(key="grade_4")
    assert "suggested" in badge.label and "suggested" not in at.button(key="grade_3").label
    words = badge.help  # the reason on hover
    assert "**4 · highly relevant**" in words and "very sure (92% likely relevant)" in words and "Enter" in words
    assert at.button(key="g_accept").label == "Accept 4"
    assert small_store.count("judgments", "reviewer = 'ann'") == 0  # shown, not stored
    at.button(key="g_accept").click().run()
    assert mine(small_store).loc[doc, "grade"] == 4
    assert grading.stored_grade(small_store, "ann", query, doc)[0]["origin"] == "cross-encoder:r1"  # accepted, and says whose


def test_leaving_a_half_graded_query_asks_then_lists_it_to_come_back(small_store):
    at = page()
    first = shown_query(at)
    at.button(key="grade_2").click().run()
    at.button(key="g_query").click().run()
    assert shown_query(at) == first and any("You graded 1 of 3 candidates" in w.value for w in at.warning)
    at.button(key="g_query").click().run()
    assert shown_query(at) != first
    assert any("Come back later (1)" in e.label for e in at.expander)
    at.button(key=f"g_reopen::{first}").click().run()
    assert shown_query(at) == first


def test_guidelines_beside_the_document_are_editable_and_progress_counts(small_store):
    from core.labeling import guidelines
    from ui.safe_text import escape

    at = page()
    assert any(m.value.startswith(escape(guidelines.DEFAULT, None)[:80]) for m in at.markdown)  # as text
    at.button(key="grade_3").click().run()
    assert any("**My progress**: 1 grade on 1 query today · 1 this week" in c.value for c in at.caption)
    edited = "**3 · relevant**: answers it.\n![x](http://127.0.0.1:9/x.png) see http://evil.example"
    at.text_area[0].set_value(edited)
    at.button(key="FormSubmitter:g_guidelines_form-Save").click().run()
    assert not at.exception, at.exception
    assert guidelines.read(small_store)[:2] == (edited, "ann")
    shown = next(m.value for m in at.markdown if "answers it" in m.value)
    assert shown == escape(edited, None) and "  \n" in shown  # escaped markdown, the line break kept


def test_finishing_a_query_moves_on_and_two_sessions_get_different_queries(small_store):
    ann, bob = page(), page(reviewer="bob")
    assert shown_query(ann) != shown_query(bob)
    first = shown_query(ann)
    for _ in range(3):
        ann.button(key="grade_1").click().run()
    assert shown_query(ann) not in (first, shown_query(bob))
    assert len(grading.judgments_for(small_store, first, "ann")) == 3


def test_list_view_grades_each_row(small_store):
    at = page()
    at.radio(key="g_view").set_value("List").run()
    query = shown_query(at)
    controls = [s for s in at.get("button_group") if s.key and s.key.startswith("lg::")]
    assert len(controls) == 3
    doc = controls[1].key.split("::")[2]
    controls[1].set_value(4).run()
    assert not at.exception
    assert grading.judgments_for(small_store, query, "ann").set_index("doc_id").loc[doc, "grade"] == 4


def test_agreement_page_shows_kappa_and_regrade_jumps_to_the_item(small_store):
    for doc, (a, b) in {"d1": (5, 4), "d2": (0, 3), "d3": (1, 1)}.items():
        grading.grade(small_store, "ann", "q1", doc, a)
        grading.grade(small_store, "bob", "q1", doc, b)
    at = AppTest.from_file(AGREEMENT, default_timeout=60).run()
    assert not at.exception
    assert at.metric[0].value == "3"
    kappa = agreement.quadratic_kappa([5, 0, 1], [4, 3, 1])
    assert any(m.value.startswith(f"**ann ↔ bob** · Cohen's κ (quadratic) **{kappa:.3f}**") for m in at.markdown)
    at.button(key="a_regrade::q1::d2").click().run()
    assert at.session_state["grade_target"] == ("q1", "d2")


def test_regrade_target_opens_that_document(small_store):
    at = AppTest.from_file(GRADE, default_timeout=60)
    at.session_state["reviewer"], at.session_state["g_mode"], at.session_state["g_k"] = "ann", "full-text", 3
    at.session_state["grade_target"] = ("q1", "d9")  # not among q1's candidates: added for the re-grade
    at.run()
    assert shown_query(at) == "q1" and shown_doc(at) == "d9"
    at.button(key="grade_2").click().run()
    assert mine(small_store).loc["d9", "grade"] == 2


def test_hard_negatives_page_confirms_a_candidate(small_store):
    reviewer = "ann"
    at = page(HARD, reviewer=reviewer)
    deadline = time.time() + 120  # the page mines in the background; a browser polls, AppTest reruns
    while "hn_candidates" not in at.session_state and time.time() < deadline and not at.exception:
        time.sleep(0.2)
        at.run()
    assert not at.exception
    first = at.session_state["hn_candidates"][0]
    query_id, doc_id = first["query_id"], first["doc_id"]
    at.button(key="hn_yes").click().run()
    row = grading.judgments_for(small_store, query_id, reviewer).set_index("doc_id").loc[doc_id]
    assert bool(row["hard_negative"])
    assert f"{query_id}" in " ".join(e.label for e in at.expander)


def test_labels_that_cut_a_long_title_id_or_reviewer_name_give_all_of_it_as_a_tooltip(small_store):
    from core.storage.schemas import Document
    from ui.safe_text import escape

    title, doc_id, reviewer = "A **long** title " * 20, "doc-" + "x" * 200, "reviewer-" + "r" * 90
    small_store.add("documents", [Document(doc_id=doc_id, title=title, text="coverage text")])
    for who, grade in (("ann", 5), (reviewer, 0)):
        grading.grade(small_store, who, "q1", doc_id, grade)
    at = AppTest.from_file(AGREEMENT, default_timeout=60).run()
    assert not at.exception
    pair = next(m for m in at.markdown if "Cohen's κ" in m.value)
    assert reviewer not in pair.value and pair.proto.help == escape(reviewer, None)  # cut at 40, all of it on hover
    line = next(m for m in at.markdown if "A \\*\\*long\\*\\* title" in m.value)
    assert escape(title, None) not in line.value and line.value.count("…") == 2
    assert line.proto.help == escape(title, None) + "  \n\n" + escape(doc_id, None)
    short_line = next(m for m in at.markdown if m.value.endswith("`q1`"))
    assert short_line.proto.help == ""  # nothing cut, no tooltip

    at = AppTest.from_file(GRADE, default_timeout=60)
    at.session_state["reviewer"], at.session_state["g_mode"], at.session_state["g_k"] = "ann", "full-text", 3
    at.session_state["grade_target"] = ("q1", doc_id)
    at.run()
    caption = next(c for c in at.caption if c.value.startswith("`doc-x"))
    assert doc_id not in caption.value and caption.proto.help == escape(doc_id, None)


def test_a_segment_link_opens_that_queue_and_the_selector_offers_it(small_store):
    stamp = now()
    small_store.add("queries", [Query(query_id=q, text=f"plan question {q}", split="eval", source="log", created_at=stamp) for q in ("L1", "L2")])
    small_store.add("judgments", [Judgment(query_id="L1", doc_id="d1", reviewer="import:log", grade=1, created_at=stamp, updated_at=stamp)])
    at = AppTest.from_file(GRADE, default_timeout=120)
    at.session_state["reviewer"], at.session_state["g_mode"], at.session_state["g_k"] = "ann", "full-text", 3
    at.query_params["queue"], at.query_params["segment"] = "segment", "source:log"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="g_strategy").value == grading.Strategy.segment.value
    assert at.selectbox(key="g_segment").value == "source:log" and "split: eval · source: log" in at.selectbox(key="g_segment").options
    assert shown_query(at) == "L2"  # least judged first, inside the segment
    at.button(key="g_query").click().run()  # untouched: skipped
    assert shown_query(at) == "L1"
    at.button(key="g_query").click().run()
    assert any(s.value.startswith("Nothing left to grade in source") and "log" in s.value for s in at.success)
    at.selectbox(key="g_strategy").set_value(grading.Strategy.ungraded.value).run()
    assert "queue" not in at.query_params and shown_query(at) not in ("L1", "L2")


def held_by(store: Store, reviewer: str) -> set[str]:
    """Query ids `reviewer` holds an unexpired grade claim on."""
    rows = store.read("claims", where=f"reviewer = '{reviewer}' AND queue = 'grade'", columns=["item_id", "expires_at"])
    return set(rows.loc[rows["expires_at"] > now().replace(tzinfo=None), "item_id"]) if not rows.empty else set()


def prefetched(at: AppTest):
    """Wait for the background prefetch the page started on the last document; its (item, candidates)."""
    return at.session_state["g_prefetch"].future.result(timeout=60)


def test_the_last_document_prefetches_the_next_query_and_finishing_opens_it(small_store):
    at = page()
    first = shown_query(at)
    for _ in range(2):
        at.button(key="grade_1").click().run()
    assert "g_prefetch" in at.session_state  # on the last document (k = 3)
    item, rows = prefetched(at)
    assert item.query_id != first and held_by(small_store, "ann") == {first, item.query_id}
    assert list(rows["doc_id"]) == list(grading.candidates(small_store, None, item.query_id, 3, "full-text")["doc_id"])
    at.button(key="grade_1").click().run()
    assert not at.exception
    assert shown_query(at) == item.query_id and shown_doc(at) == rows["doc_id"].iloc[0]
    assert "g_prefetch" not in at.session_state
    assert len(grading.judgments_for(small_store, first, "ann")) == 3  # the finishing grade stored as before


def test_a_prefetched_claim_is_given_back_when_the_queue_changes(small_store):
    at = page()
    first = shown_query(at)
    for _ in range(2):
        at.button(key="grade_1").click().run()
    item, _ = prefetched(at)
    assert item.query_id in held_by(small_store, "ann")
    at.button(key="g_prev").click().run()  # back a document: the prefetch stays (same queue)
    assert at.session_state["g_prefetch"].future.result(timeout=60)[0] == item
    at.number_input(key="g_k").set_value(5).run()  # another k: the prefetched query no longer fits
    assert not at.exception and "g_prefetch" not in at.session_state
    assert held_by(small_store, "ann") == {first}  # the query on screen stays held; the prefetched one is free again


def test_a_prefetched_claim_is_given_back_when_the_session_is_discarded(small_store):
    """The reviewer left: Streamlit drops the session's state, and with it the prefetch, whose claim goes back."""
    import gc
    from concurrent.futures import Future

    from core.storage import claims
    from ui.grading import Prefetch

    assert claims.try_claim(small_store, grading.QUEUE, "q2", "ann")
    future = Future()
    held = Prefetch(("ungraded first", None, 3, "full-text", 0.2), "q1", future, small_store, "ann")
    del held
    gc.collect()
    assert held_by(small_store, "ann") == {"q2"}  # the fetch is still under way: nothing to give back yet
    future.set_result((grading.QueueItem(grading.QUEUE, "q2"), None))
    assert released_soon(small_store, "ann")


def released_soon(store, name: str, within_s: float = 20.0) -> bool:
    """The release runs on the prefetch pool: wait for it, but not forever."""
    deadline = time.monotonic() + within_s
    while held_by(store, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held_by(store, name) == set()


def test_a_prefetch_dropped_on_lancedbs_own_thread_gives_its_claim_back_without_deadlock(small_store):
    """The garbage collector may drop a session's state on any thread, LanceDB's event loop
    included (seen in CI): a store call made there would wait on itself forever."""
    from concurrent.futures import Future

    from lancedb.background_loop import LOOP

    from core.storage import claims
    from ui.grading import Prefetch

    assert claims.try_claim(small_store, grading.QUEUE, "q2", "ann")
    future = Future()
    future.set_result((grading.QueueItem(grading.QUEUE, "q2"), None))
    held = [Prefetch(("ungraded first", None, 3, "full-text", 0.2), "q1", future, small_store, "ann")]
    LOOP.loop.call_soon_threadsafe(held.clear)  # the last reference goes on LanceDB's thread: the finalizer runs there
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), LOOP.loop).result(timeout=10)  # a deadlocked loop fails here, not hangs
    assert released_soon(small_store, "ann")
