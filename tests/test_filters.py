"""Typed filters: values quoted, column names checked, every shape the callers need."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from core.errors import InputError
from core.storage.filters import After, AtLeast, Before, Not, StartsWith, predicate
from core.storage.schemas import QueryStatus, Split, parse_target, target


def test_each_shape_becomes_the_sql_it_means():
    assert predicate({"split": Split.eval, "status": QueryStatus.approved}) == "split = 'eval' AND status = 'approved'"
    assert predicate({"query_id": ["a", "b'c"]}) == "query_id IN ('a', 'b''c')"
    assert predicate({"query_id": []}) == "false" and predicate({"query_id": Not([])}) == "true"
    assert predicate({"kind": Not("curve"), "pid": AtLeast(1), "grade": Before(3)}) == "kind != 'curve' AND pid >= 1 AND grade < 3"
    assert predicate({"at": After(datetime(2026, 1, 2, 3, 4, 5))}) == "at > TIMESTAMP '2026-01-02 03:04:05'"
    assert predicate({"finished_at": None, "model_path": Not(None)}) == "finished_at IS NULL AND model_path IS NOT NULL"
    assert predicate({"hard_negative": True, "n": 2}) == "hard_negative = true AND n = 2"
    assert predicate({}) is None and predicate(None) is None


def test_a_value_from_data_never_becomes_sql_and_a_column_must_be_a_name():
    hostile = "x' OR '1'='1"
    assert predicate({"reviewer": hostile}) == "reviewer = 'x'' OR ''1''=''1'"
    with pytest.raises(InputError, match="expects a column name"):
        predicate({"reviewer = 'a' OR 1": 1})


def test_the_store_reads_counts_updates_and_deletes_with_typed_filters(small_store):
    eval_ids = sorted(small_store.read("queries", where={"split": Split.eval}, columns=["query_id"])["query_id"])
    assert eval_ids == ["q5", "q6", "q7", "q8"]
    assert small_store.count("judgments", {"query_id": ["q1", "q2"], "grade": AtLeast(3)}) >= 1
    small_store.update_where("queries", {"query_id": "q1"}, {"status": QueryStatus.approved.value})
    assert small_store.read_rows("queries", {"query_id": "q1"})[0]["status"] == "approved"
    small_store.delete("judgments", {"query_id": "q1"})
    assert small_store.count("judgments", {"query_id": "q1"}) == 0


def test_a_prefix_is_matched_literally_and_a_guard_names_the_stored_row():
    assert predicate({"reviewer": StartsWith("import:")}) == "starts_with(reviewer, 'import:')"
    assert predicate({"status": "pending"}, prefix="target.") == "target.status = 'pending'"
    assert predicate({"doc_id": pd.Series(["d1", "d2"]), "query_id": Not({"q1": 1}.keys())}) == "doc_id IN ('d1', 'd2') AND NOT (query_id IN ('q1'))"


def test_prefixes_guards_and_named_reads_against_the_store(small_store):
    assert small_store.count("judgments", {"reviewer": StartsWith("import:")}) == small_store.count("judgments")
    assert small_store.count("judgments", {"reviewer": StartsWith("import_")}) == 0  # "_" is no wildcard
    small_store.update_where("queries", {"query_id": ["q2", "q7", "q8"]}, {"status": QueryStatus.pending.value})
    assert sorted(small_store.split_queries(Split.eval)["query_id"]) == ["q5", "q6"]
    assert list(small_store.split_queries("train", columns=["query_id", "text"]).columns) == ["query_id", "text"]
    row = small_store.read_rows("queries", {"query_id": "q2"})[0]
    small_store.upsert("queries", [{**row, "text": "changed"}], only_if={"status": QueryStatus.approved})  # q2 is pending now
    assert small_store.read_rows("queries", {"query_id": "q2"})[0]["text"] == row["text"]
    kept = small_store.put_if("queries", {**row, "text": "changed"}, {"status": Not(QueryStatus.approved)}, ["text"])
    assert list(kept["text"]) == ["changed"]


def test_an_event_target_is_built_and_read_back_by_one_helper():
    assert target("judgment", "q1", "docs/a/b") == "judgment:q1/docs/a/b"
    assert parse_target("judgment:q1/docs/a/b") == ("judgment", "q1", "docs/a/b")
    assert parse_target(target("query", "q/1")) == ("query", "q/1") and parse_target("run:r1") == ("run", "r1")
    with pytest.raises(ValueError, match="expects 2 id"):
        target("judgment", "q1")
