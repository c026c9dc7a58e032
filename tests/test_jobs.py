"""Job mechanics: one at a time, progress rows, cancel (in-process and via the log), failure, interrupted."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from core.errors import ConflictError, FlywheelError
from core.storage.schemas import Run, now
from core.training import jobs
from core.training import run as training
from core.training.config import TrainConfig
from tests.tiny_model import build_tiny_model


def looping(store, settings, run_id, config, reporter):
    """A stand-in job body: reports steps until told to stop."""
    for step in range(1, 100_000):
        reporter.update(step, 100_000, loss=1.0 / step)
        reporter.raise_if_cancelled()
        if reporter.stop_reason:
            return {"stopped": reporter.stop_reason}
        time.sleep(0.01)
    return {}


def failing(store, settings, run_id, config, reporter):
    raise RuntimeError("CUDA out of memory (simulated)")


def wait_for(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_progress_cancel_and_one_at_a_time(store, workspace):
    job = jobs.Job.create(store, workspace, "adapter", "tiny", {}, looping).start()
    assert wait_for(lambda: job.progress().get("step", 0) > 5)
    assert job.status() == "running" and jobs.active_run(store) == job.run_id
    with pytest.raises(ConflictError, match="one run at a time"):
        jobs.Job.create(store, workspace, "adapter", "tiny", {}, looping)
    job.cancel("ann")
    assert job.wait(20) == "cancelled"
    row = jobs.read_run(store, job.run_id)
    assert row["progress"]["history"] and row["progress"]["loss"] is not None and row["finished_at"] is not None
    assert store.count("events", f"action = 'cancel' AND actor = 'ann' AND target = 'run:{job.run_id}'") == 1
    with pytest.raises(ConflictError, match="already cancelled"):
        jobs.request_cancel(store, job.run_id, "ann")


def test_cancel_from_another_session_reaches_the_job(store, workspace):
    job = jobs.Job.create(store, workspace, "adapter", "tiny", {}, looping).start()
    assert wait_for(lambda: job.status() == "running")
    jobs.request_cancel(store, job.run_id, "bob")  # only the audit log: no access to the job object
    assert job.wait(20) == "cancelled"


def test_time_budget_ends_the_job_normally(store, workspace):
    job = jobs.Job.create(store, workspace, "adapter", "tiny", {"time_budget_s": 0.5}, looping).start()
    assert job.wait(20) == "succeeded" and job.result == {"stopped": "time budget"}


def test_failure_marks_the_run_failed_and_the_next_run_can_start(store, workspace):
    job = jobs.Job.create(store, workspace, "bi-encoder", "tiny", {}, failing).start()
    assert job.wait(20) == "failed"
    error = jobs.read_run(store, job.run_id)["error"]
    assert "CUDA out of memory (simulated)" in error and "Traceback" in error
    second = jobs.Job.create(store, workspace, "bi-encoder", "tiny", {}, looping).start()
    second.cancel()
    assert second.wait(20) == "cancelled"


def test_a_bad_base_model_fails_the_run_with_a_clear_error(small_store, workspace):
    job = training.launch(small_store, workspace, TrainConfig(kind="bi-encoder", base_model="/no/such/model", max_steps=1))
    assert job.wait(60) == "failed"
    assert "cannot load embedding model '/no/such/model'" in jobs.read_run(small_store, job.run_id)["error"]
    assert not (workspace.models_dir / job.run_id).exists()  # a failed run leaves no empty model folder


def test_folders_of_killed_runs_are_swept_at_the_next_launch(store, workspace):
    stamp = now()
    store.add("runs", [Run(run_id="killed", kind="adapter", base_model="x", status="interrupted", pid=1, created_at=stamp),
                       Run(run_id="good", kind="adapter", base_model="x", status="succeeded", pid=1, created_at=stamp)])
    for name in ("killed", "good", "not-a-run"):
        (workspace.models_dir / name).mkdir(parents=True)
    job = training.launch(store, workspace, TrainConfig(kind="adapter"))
    assert job.wait(60) == "failed"
    assert sorted(p.name for p in workspace.models_dir.iterdir()) == ["good", "not-a-run"]


def test_training_without_eval_queries_fails_cleanly(store, workspace):
    job = training.launch(store, workspace, TrainConfig(kind="adapter"))
    assert job.wait(60) == "failed"
    assert "eval queries" in jobs.read_run(store, job.run_id)["error"]


def test_runs_of_dead_processes_are_marked_interrupted(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stamp = now()
    store.add("runs", [Run(run_id="dead", kind="adapter", base_model="x", status="running", pid=dead.pid, created_at=stamp),
                       Run(run_id="alive", kind="adapter", base_model="x", status="running", pid=jobs.os.getpid(), created_at=stamp),
                       Run(run_id="done", kind="adapter", base_model="x", status="succeeded", pid=dead.pid, created_at=stamp)])
    assert jobs.mark_interrupted(store) == ["dead"]
    assert jobs.read_run(store, "dead")["status"] == "interrupted" and "ended" in jobs.read_run(store, "dead")["error"]
    assert jobs.read_run(store, "alive")["status"] == "running" and jobs.read_run(store, "done")["status"] == "succeeded"
    with pytest.raises(FlywheelError, match="no run with id"):
        jobs.read_run(store, "missing")


def test_cancelling_a_real_trainer_stops_it_through_the_callback(small_store, workspace, tmp_path):
    tiny = build_tiny_model(tmp_path / "tiny")
    config = TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=100_000, batch_size=4, mine=False)
    job = training.launch(small_store, workspace, config)
    assert wait_for(lambda: job.progress().get("step", 0) >= 2, timeout=120)
    job.cancel()
    assert job.wait(60) == "cancelled"
    row = jobs.read_run(small_store, job.run_id)
    assert 2 <= row["progress"]["step"] < 100_000
    assert small_store.count("metrics", f"run_id = '{job.run_id}' AND stage = 'after'") == 0
    assert small_store.count("metrics", f"run_id = '{job.run_id}' AND stage = 'before'") == 25


def test_a_run_on_another_host_is_judged_by_its_heartbeat_not_by_a_local_pid(store, workspace):
    """A workspace shared by two machines: opening it here must not mark a run that is live on the
    other machine as interrupted (its pid means nothing here); a run whose heartbeat stopped is."""
    from datetime import timedelta

    gone_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    gone_pid.wait()  # a pid that is dead on this host: the old check called any such run dead
    stamp = now()
    fresh, stale = (stamp - timedelta(seconds=20)).isoformat(), (stamp - timedelta(minutes=30)).isoformat()
    store.add("runs", [
        Run(run_id="elsewhere-live", kind="adapter", base_model="x", status="running", pid=gone_pid.pid, host="gpu-box-7",
            heartbeat=fresh, created_at=stamp - timedelta(hours=3)),
        Run(run_id="elsewhere-dead", kind="adapter", base_model="x", status="running", pid=gone_pid.pid, host="gpu-box-7",
            heartbeat=stale, created_at=stamp - timedelta(hours=3)),
        Run(run_id="here-dead", kind="adapter", base_model="x", status="running", pid=gone_pid.pid, host=jobs.this_host(),
            heartbeat=fresh, created_at=stamp),
    ])
    for run_id in ("elsewhere-dead", "here-dead", "elsewhere-live"):
        (workspace.models_dir / run_id).mkdir(parents=True)
    assert sorted(jobs.mark_interrupted(store, workspace.models_dir)) == ["elsewhere-dead", "here-dead"]
    assert jobs.read_run(store, "elsewhere-live")["status"] == "running"
    # the interrupted runs' half-written model folders go when they are marked, not at the next launch
    assert sorted(p.name for p in workspace.models_dir.iterdir()) == ["elsewhere-live"]


def test_a_running_job_records_its_host_and_beats(small_store, workspace, monkeypatch):
    from datetime import timedelta

    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", timedelta(seconds=0.2))
    seen: list[str] = []

    def work(store, settings, run_id, config, reporter):
        first = jobs.read_run(store, run_id)["heartbeat"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            beat = jobs.read_run(store, run_id)["heartbeat"]
            if beat != first:
                seen.extend([first, beat])
                break
            time.sleep(0.1)
        return {}

    job = jobs.Job.create(small_store, workspace, "adapter", "x", {}, work)
    job.run()
    row = jobs.read_run(small_store, job.run_id)
    assert row["host"] == jobs.this_host() and row["status"] == "succeeded"
    assert len(seen) == 2 and seen[1] > seen[0]
