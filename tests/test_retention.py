"""How long old table versions are kept, and the daily optimize (core.storage.retention)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from core.commands.main import main
from core.storage import retention
from core.storage.migrations import write_meta
from core.storage.schemas import now
from core.storage.store import Store


def judgment_versions(store: Store) -> int:
    return len(store.table("judgments").list_versions())


def grade_some(store: Store, n: int) -> None:
    from core.labeling import grading

    for i in range(n):
        grading.grade(store, "ann", "q1", f"d{i % 12 + 1}", i % 6)


def test_compaction_keeps_versions_for_the_workspace_retention(small_store: Store):
    retention.set_keep_days(small_store, 30)
    assert Store(small_store.uri).keep_versions == timedelta(days=30)  # recorded in the workspace
    grade_some(small_store, 5)
    small_store.keep_versions = timedelta(0)
    with pytest.warns(UserWarning, match="removes every version"):
        small_store.compact("judgments")
    assert judgment_versions(small_store) <= 2  # old versions pruned by the store's retention, not a fixed 7 days


def test_keep_versions_below_a_day_is_refused(small_store: Store, capsys):
    assert main(["optimize", "--keep-versions", "0.5"]) == 2
    assert "--keep-versions expects a number of days of at least 1" in capsys.readouterr().err
    assert main(["optimize", "--keep-versions", "3"]) == 0
    assert Store(small_store.uri).keep_versions == timedelta(days=3)


def test_the_daily_optimize_runs_once_in_one_process(small_store: Store):
    other = Store(small_store.uri)
    assert retention.optimize_if_due(small_store) is None  # a new workspace counts as optimized when made
    write_meta(small_store, {retention.OPTIMIZED_KEY: (now() - timedelta(days=2)).isoformat()})
    grade_some(small_store, 3)
    reports = [retention.optimize_if_due(small_store), retention.optimize_if_due(other)]
    assert sum(r is not None for r in reports) == 1
    assert small_store.count("events", "action = 'optimize'") == 1
    assert retention.optimize_if_due(other) is None and retention.optimize_if_due(small_store) is None


def test_the_background_check_optimizes_when_due(small_store: Store, monkeypatch):
    monkeypatch.setattr(retention, "FIRST_CHECK_S", 0.05)
    write_meta(small_store, {retention.OPTIMIZED_KEY: (now() - timedelta(days=2)).isoformat()})
    retention.schedule(small_store)
    deadline = time.monotonic() + 60
    while not small_store.count("events", "action = 'optimize'"):
        assert time.monotonic() < deadline, "the scheduled optimize did not run"
        time.sleep(0.1)


@pytest.mark.filterwarnings("ignore:optimize.cleanup_older_than=0")
def test_optimize_reports_versions_and_bytes(small_store: Store):
    grade_some(small_store, 10)
    report = retention.optimize(small_store, keep=timedelta(0))
    assert report["versions_after"] < report["versions_before"] and report["bytes_after"] > 0 and not report["problems"]
