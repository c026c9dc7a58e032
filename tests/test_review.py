"""The review queue: decisions, undo, conflicts between reviewers, summaries."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import ConflictError, InputError
from core.labeling import review
from core.labeling.generation import OfflineGenerator, generate
from core.storage import claims
from core.storage.status import next_step, status
from core.storage.store import Store


def seed_pending(store: Store, doc_ids=("d1", "d4", "d6", "d7", "d8", "d10")) -> list[str]:
    docs = store.read("documents", columns=["doc_id", "title", "text"]).set_index("doc_id").loc[list(doc_ids)].reset_index()
    return generate(store, OfflineGenerator(0), docs, per_doc=1).written


def row(store: Store, query_id: str) -> dict:
    return review._query_row(store, query_id)


def actions(store: Store, query_id: str) -> list[str]:
    return list(review.history(store, [query_id]).sort_values("at")["action"])


@pytest.fixture
def queue(small_store) -> tuple[Store, list[str]]:
    return small_store, seed_pending(small_store)


def test_queue_gives_oldest_pending_with_its_document(queue):
    store, ids = queue
    item = review.next_item(store, "ann")
    assert item.query_id == ids[0] and item.source_doc_id == "d1"
    assert item.doc_title == "Silver PPO 2025 deductible" and item.generator == "offline@v1"
    assert review.still_mine(store, "ann", item.query_id) and not review.still_mine(store, "bob", item.query_id)


def test_approve_stores_reviewer_time_and_event(queue):
    store, ids = queue
    assert review.approve(store, "ann", ids[0]) == "approve"
    stored = row(store, ids[0])
    assert stored["status"] == "approved" and stored["reviewer"] == "ann" and stored["reviewed_at"] is not None
    assert stored["original_text"] is None and actions(store, ids[0]) == ["approve"]
    assert claims.held_by_others(store, review.QUEUE, "bob") == set()  # the claim is released
    assert status(store)["reviewers"] == ["ann"]  # Home counts query reviewers, not only graders


def test_edit_keeps_the_original_text(queue):
    store, ids = queue
    before = row(store, ids[1])["text"]
    assert review.approve(store, "ann", ids[1], "  prior auth for mri  ") == "edit"
    stored = row(store, ids[1])
    assert stored["text"] == "prior auth for mri" and stored["original_text"] == before and stored["status"] == "approved"
    assert json.loads(review.history(store, [ids[1]])["detail"].iloc[0])["original_text"] == before
    with pytest.raises(InputError, match="expects some text"):
        review.approve(store, "ann", ids[2], "   ")


def test_reject_keeps_the_row_with_its_reason(queue):
    store, ids = queue
    review.reject(store, "ann", ids[2], "not answerable")
    stored = row(store, ids[2])
    assert stored["status"] == "rejected" and stored["reject_reason"] == "not answerable"
    assert store.count("queries", f"query_id = '{ids[2]}'") == 1


def test_skip_leaves_pending_and_frees_the_item(queue):
    store, ids = queue
    item = review.next_item(store, "ann")
    review.skip(store, "ann", item.query_id)
    assert row(store, item.query_id)["status"] == "pending" and actions(store, item.query_id) == ["skip"]
    assert review.next_item(store, "bob").query_id == item.query_id
    assert review.next_item(store, "ann", exclude={item.query_id}).query_id == ids[1]


def test_undo_restores_pending_latest_first_and_puts_the_text_back(queue):
    store, ids = queue
    original = row(store, ids[0])["text"]
    review.approve(store, "ann", ids[0], "edited text")
    review.reject(store, "ann", ids[1], "meh")
    assert review.undo(store, "ann") == review.Undone(ids[1], "reject", reason="meh")
    restored = row(store, ids[1])
    assert restored["status"] == "pending" and restored["reviewer"] is None and restored["reject_reason"] is None
    assert review.undo(store, "ann") == review.Undone(ids[0], "edit")
    restored = row(store, ids[0])
    assert restored["text"] == original and restored["original_text"] is None and restored["status"] == "pending"
    assert review.undo(store, "ann") is None
    assert actions(store, ids[0]) == ["edit", "undo"]
    assert review.next_item(store, "bob").query_id == ids[2]  # ann holds the undone items again
    review.approve(store, "ann", ids[0])  # decide again after an undo: allowed once more
    assert row(store, ids[0])["status"] == "approved"


def test_undo_skips_items_someone_else_decided_since(queue):
    store, ids = queue
    review.approve(store, "ann", ids[0])
    assert review.undo(store, "bob") is None  # bob has nothing of his own to undo
    assert row(store, ids[0])["status"] == "approved"


def test_undo_is_a_stack_of_my_actions_skips_included(queue):
    """Issue 24: reject, skip, undo brought the *rejected* query back and left the skip. The stack
    takes back the skip first (the skipped query is mine again), and keeps the rejection."""
    store, ids = queue
    review.reject(store, "ann", ids[0], "off topic")
    review.skip(store, "ann", ids[1])
    assert review.undo(store, "ann") == review.Undone(ids[1], "skip")
    assert row(store, ids[0])["status"] == "rejected" and row(store, ids[0])["reject_reason"] == "off topic"
    assert review.still_mine(store, "ann", ids[1]) and not review.still_mine(store, "bob", ids[1])
    assert actions(store, ids[1]) == ["skip", "undo"]
    assert review.undo(store, "ann") == review.Undone(ids[0], "reject", reason="off topic")  # the next press: the rejection
    assert row(store, ids[0])["status"] == "pending"
    assert review.undo(store, "ann") is None


def test_undoing_a_skip_someone_decided_since_says_so_and_keeps_their_decision(queue):
    store, ids = queue
    review.approve(store, "ann", ids[0])
    review.skip(store, "ann", ids[1])
    review.reject(store, "bob", ids[1], "duplicate")
    assert review.undo(store, "ann") == review.Undone(ids[1], "skip", restored=False, status_now="rejected")
    assert row(store, ids[1])["status"] == "rejected" and row(store, ids[0])["status"] == "approved"  # nothing else reverted
    assert review.undo(store, "ann") == review.Undone(ids[0], "approve")  # only a second press reaches the approval


def test_undoing_a_skip_another_reviewer_holds_waits_for_them(queue):
    store, ids = queue
    review.skip(store, "ann", ids[1])
    assert review.next_item(store, "bob").query_id == ids[0]
    assert review.next_item(store, "bob", exclude={ids[0]}).query_id == ids[1]  # bob holds both now
    with pytest.raises(ConflictError, match="another reviewer"):
        review.undo(store, "ann")
    assert actions(store, ids[1]) == ["skip"]  # still on ann's stack


def test_home_next_step_is_the_review_while_queries_wait(queue):
    """Issue 24: Home said 'launch a first run' while 20 queries waited for review."""
    store, ids = queue
    assert next_step(status(store)).startswith(f"{len(ids)} queries wait for review")
    for query_id in ids:
        review.approve(store, "ann", query_id)
    assert "wait for review" not in next_step(status(store))


def test_a_query_is_never_approved_twice(queue):
    store, ids = queue
    review.approve(store, "ann", ids[0])
    with pytest.raises(ConflictError, match="already approved by ann"):
        review.approve(store, "bob", ids[0])
    with pytest.raises(ConflictError):
        review.reject(store, "ann", ids[0])
    assert actions(store, ids[0]) == ["approve"] and row(store, ids[0])["reviewer"] == "ann"


def test_held_item_cannot_be_decided_by_another_reviewer(queue):
    store, ids = queue
    item = review.next_item(store, "ann")
    with pytest.raises(ConflictError, match="being reviewed by another reviewer"):
        review.approve(store, "bob", item.query_id)
    assert row(store, item.query_id)["status"] == "pending"


def test_a_query_decided_while_the_queue_was_read_is_not_handed_out(queue, monkeypatch):
    """The race CI hit with two app processes: ann reads the pending list, bob approves its first
    query and releases the claim, then ann claims that query. She must get the next one instead."""
    store, ids = queue
    stale = review.pending_ids(store, None, None)
    review.approve(store, "bob", ids[0])
    monkeypatch.setattr(review, "pending_ids", lambda *args: stale)
    item = review.next_item(store, "ann")
    assert item is not None and item.query_id == ids[1]
    assert claims.held_by_others(store, review.QUEUE, "bob") == {ids[1]}  # ann holds only the one she got


@pytest.mark.parametrize("processes", [False, True], ids=["one-app", "two-apps"])
def test_two_concurrent_sessions_never_receive_the_same_item(queue, workspace, processes):
    store, ids = queue
    if processes:  # two app processes: separate handles (seeded claim rows keep their merge_inserts race-free)
        handles = {"ann": Store(workspace.db_uri), "bob": Store(workspace.db_uri)}
    else:  # two browser sessions of one app share its cached Store
        handles = {"ann": store, "bob": store}

    def work(name: str) -> list[str]:
        mine = []
        while (item := review.next_item(handles[name], name)) is not None:
            mine.append(item.query_id)
            try:
                review.approve(handles[name], name, item.query_id)
            except ConflictError:
                pass
        return mine

    with ThreadPoolExecutor(2) as pool:
        ann, bob = pool.map(work, ["ann", "bob"])
    assert not set(ann) & set(bob) and set(ann) | set(bob) == set(ids)
    events = store.read("events", where="action = 'approve'")
    assert sorted(events["target"]) == sorted(f"query:{q}" for q in ids)  # each decided exactly once
    assert review.pending_count(store) == 0
    assert len(store.read("claims")) == len(ids)  # one claim row per query, never a duplicate


def test_review_summary_per_generator(queue):
    store, ids = queue
    assert review.review_summary(store).to_dict("records") == [
        {"generator": "offline@v1", "pending": 6, "approved": 0, "rejected": 0, "approval_rate": pytest.approx(math.nan, nan_ok=True)}
    ]
    review.approve(store, "ann", ids[0])
    review.approve(store, "ann", ids[1])
    review.reject(store, "ann", ids[2])
    summary = review.review_summary(store).iloc[0]
    assert (summary["pending"], summary["approved"], summary["rejected"]) == (3, 2, 1)
    assert summary["approval_rate"] == pytest.approx(2 / 3)


def test_filters_and_decided_table(queue):
    store, ids = queue
    generators, doc_ids = review.filter_options(store)
    assert generators == ["offline@v1"] and "d4" in doc_ids
    assert review.next_item(store, "ann", doc_id="d4").source_doc_id == "d4"
    assert review.next_item(store, "bob", generator="openai/x@prompt-v1") is None
    review.approve(store, "ann", ids[0], "edited")
    review.undo(store, "ann")
    review.reject(store, "ann", ids[0], "bad")
    table = review.decided(store)
    assert list(table["query_id"]) == [ids[0]] and table["status"].iloc[0] == "rejected"
    assert table["history"].iloc[0].startswith("edit by ann") and "undo by ann" in table["history"].iloc[0]
    assert review.decided(store, status="approved").empty
