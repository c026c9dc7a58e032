from __future__ import annotations

import pytest

from core.labeling import grading, hardnegatives


@pytest.fixture
def mined(small_store, embedder):
    return hardnegatives.mined_candidates(small_store, embedder, k=10, low_grade=1, per_query=3)


def pairs(frame):
    return set(zip(frame["query_id"], frame["doc_id"], strict=True))


def test_ranked_high_but_graded_low_is_offered(mined):
    ranked = mined[mined["source"].str.startswith("ranked")]
    # q1→d3 (graded 1, in q1's top 10) is offered; q1→d2 was already flagged a hard negative on import
    assert ("q1", "d3") in pairs(ranked)
    assert ("q1", "d2") not in pairs(mined)
    assert (ranked["grade"] <= 1).all()
    assert not pairs(ranked) & {("q1", "d1"), ("q5", "d10")}  # positives never


def test_never_graded_docs_close_to_a_positive_are_offered(small_store, mined):
    similar = mined[mined["source"].str.startswith("never graded")]
    assert not similar.empty
    judged = pairs(small_store.read("judgments"))
    assert not pairs(similar) & judged
    assert similar["grade"].isna().all()
    assert list(mined["score"]) == sorted(mined["score"], reverse=True)


def test_each_candidate_says_why_in_plain_words_with_no_model_number(mined):
    """Blind mode shows only this sentence: no score, rank or grade in it (issue 24)."""
    assert mined["why"].str.len().gt(0).all() and set(mined["why"]) <= set(hardnegatives.WHY.values())
    assert not mined["why"].str.contains(r"\d").any()


def test_confirm_and_reject_are_stored_and_not_offered_again(small_store, embedder, mined):
    target = mined.iloc[0]
    other = mined.iloc[1]
    hardnegatives.confirm(small_store, "ann", target["query_id"], target["doc_id"])
    hardnegatives.reject(small_store, "bob", other["query_id"], other["doc_id"])
    mine = grading.judgments_for(small_store, target["query_id"], "ann").set_index("doc_id").loc[target["doc_id"]]
    assert bool(mine["hard_negative"]) and mine["grade"] == 0
    assert grading.judgments_for(small_store, other["query_id"], "bob").empty  # a rejection is not a grade
    again = pairs(hardnegatives.mined_candidates(small_store, embedder, k=10, low_grade=1, per_query=3))
    assert (target["query_id"], target["doc_id"]) not in again and (other["query_id"], other["doc_id"]) not in again
    listed = hardnegatives.confirmed(small_store)
    row = listed[(listed["query_id"] == target["query_id"]) & (listed["doc_id"] == target["doc_id"])]
    assert row["reviewers"].iloc[0] == "ann"


def test_confirm_keeps_the_reviewers_grade_and_reject_clears_their_flag(small_store):
    grading.grade(small_store, "ann", "q3", "d6", 2, note="close")
    hardnegatives.confirm(small_store, "ann", "q3", "d6")
    row = grading.judgments_for(small_store, "q3", "ann").iloc[0]
    assert (row["grade"], bool(row["hard_negative"]), row["note"]) == (2, True, "close")
    hardnegatives.reject(small_store, "ann", "q3", "d6")
    assert not bool(grading.judgments_for(small_store, "q3", "ann").iloc[0]["hard_negative"])


def test_confirmed_lists_flags_per_query(small_store):
    listed = hardnegatives.confirmed(small_store)
    # the fixture imports grade-0 judgments flagged as hard negatives
    assert pairs(listed) == {("q1", "d2"), ("q2", "d5"), ("q4", "d9"), ("q6", "d1")}
    assert listed.set_index("doc_id").loc["d2", "query"] == "silver ppo deductible 2025"
    assert hardnegatives.confirmed(small_store, ["q2"])["doc_id"].tolist() == ["d5"]
