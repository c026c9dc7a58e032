"""Training runs as background jobs: one at a time, progress in the `runs` row, cancellable.

The job thread never touches Streamlit. Progress (step/total, loss, ETA, eval metric,
history) goes into the run's row through a `transformers.TrainerCallback` (or the adapter's
own loop) and the page polls it. Cancel is an in-process flag plus a `cancel` event in the
audit log, so any session or process can cancel a run. Runs left running by a process that
died are marked `interrupted` by `mark_interrupted` at start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ConflictError, FlywheelError
from core.evaluation.metrics import VALIDATION_METRIC
from core.progress import Progress
from core.settings import Settings
from core.storage import splits
from core.storage.auth import Action, User, actor_name
from core.storage.filters import Not
from core.storage.liveness import HEARTBEAT_EVERY, process_gone, this_host
from core.storage.schemas import Run, RunKind, RunStatus, now, target
from core.storage.store import Store

ACTIVE = (RunStatus.queued.value, RunStatus.running.value)
FINAL = (RunStatus.succeeded.value, RunStatus.failed.value, RunStatus.cancelled.value, RunStatus.interrupted.value)
WRITE_EVERY_S = 1.0
CANCEL_CHECK_EVERY_S = 2.0
MAX_HISTORY = 2000


def eta(elapsed: float, done: int, total: int) -> float | None:
    """Seconds left at the rate so far; None (shown as 'estimating…') before the first unit or
    once the count is full but the phase goes on, never a misleading 0."""
    if done <= 0 or total <= 0 or done >= total:
        return None
    return round(max(1.0, elapsed / done * (total - done)), 1)


class Cancelled(Exception):
    """Raised inside the job when a cancel request stopped it."""


def run_gone(row: dict[str, Any]) -> bool:
    """True when the process running this run has ended: asked directly on this host, judged by
    its heartbeat on another (a workspace shared by two machines)."""
    return process_gone(row.get("host") or "", int(row.get("pid") or 0), row.get("started_at") or row.get("created_at"),
                        row.get("heartbeat"))


def mark_interrupted(store: Store, models_dir: Path | None = None) -> list[str]:
    """Mark runs left queued/running by a dead process as interrupted, and remove the model
    folders they left half-written; returns their ids."""
    rows = store.read("runs", where={"status": ACTIVE}, columns=["run_id", "pid", "host", "heartbeat", "created_at", "started_at"])
    dead = [row["run_id"] for row in rows.to_dict("records") if run_gone(row)]
    for run_id in dead:
        store.update_where(
            "runs",
            {"run_id": run_id, "status": ACTIVE},
            {"status": RunStatus.interrupted.value, "error": "The process running it ended before it finished; start it again.", "finished_at": now()},
        )
        if models_dir is not None:
            shutil.rmtree(models_dir / run_id, ignore_errors=True)
    return dead


def sweep_run_folders(store: Store, models_dir: Path) -> list[str]:
    """Remove the model folders of runs that ended without a model (killed, failed, cancelled)."""
    if not models_dir.is_dir():
        return []
    names = [p.name for p in models_dir.iterdir() if p.is_dir()]
    if not names:
        return []
    ended = {RunStatus.failed.value, RunStatus.cancelled.value, RunStatus.interrupted.value}
    rows = store.read("runs", where={"run_id": names}, columns=["run_id", "status"])
    swept = [r for r, status in zip(rows["run_id"], rows["status"], strict=False) if status in ended]
    for run_id in swept:
        shutil.rmtree(models_dir / run_id, ignore_errors=True)
    return swept


def read_run(store: Store, run_id: str) -> dict[str, Any]:
    rows = store.read("runs", where={"run_id": run_id})
    if rows.empty:
        raise FlywheelError(f"no run with id '{run_id}': see `flywheel runs` for the ids.")
    row = rows.iloc[0].to_dict()
    for key in ("config", "progress", "snapshot"):
        row[key] = json.loads(row.get(key) or "{}")
    return row


def cancel_requested(store: Store, run_id: str) -> bool:
    return store.count("events", {"action": "cancel", "target": target("run", run_id)}) > 0


class Reporter:
    """Throttled progress writes into the runs row, and the 'should training stop?' answer.

    `listener`, when set, hears every change as it happens (not throttled: the CLI's bar does its
    own), as the one `Progress` shape: the phase, its count, and the loss and validation score as
    the note."""

    def __init__(self, store: Store, run_id: str, cancel: threading.Event, time_budget_s: float = 0.0, primary: bool = True,
                 listener: Progress | None = None):
        self.store, self.run_id, self.cancel = store, run_id, cancel
        self.deadline = time.monotonic() + time_budget_s if time_budget_s > 0 else None
        self.primary = primary  # on multi-process (accelerate) runs only rank 0 writes
        self.listener = listener
        self.started = self.phase_started = time.monotonic()
        self.state: dict[str, Any] = {"step": 0, "total": 0, "loss": None, "eta_s": None, "eval": {}, "history": [], "phase": "starting",
                                      "work": {}}
        self._last_write = 0.0
        self._last_check = 0.0
        self.stop_reason = ""

    def phase(self, name: str, total: int = 0, unit: str = "") -> None:
        """Start a phase: its name and, when known, how many `unit`s of work it holds."""
        self.close_phase()
        self.phase_started = time.monotonic()
        self.state.update(phase=name, work={"done": 0, "total": int(total), "unit": unit, "eta_s": None} if total else {})
        self.write(force=True)
        self.raise_if_cancelled()

    def close_phase(self) -> None:
        """Add the time spent in the current phase to `timings` (seconds per phase name), so a
        finished run shows where its wall time went."""
        timings = self.state.setdefault("timings", {})
        name = self.state["phase"]
        moment = time.monotonic()
        timings[name] = round(timings.get(name, 0.0) + moment - self.phase_started, 1)
        self.phase_started = moment

    def work(self, done: int, total: int) -> None:
        """Progress inside a phase (documents embedded, pairs scored): the count moves, the ETA
        follows, and a cancel takes effect here, between two batches."""
        self.state["work"] = self.state.get("work") or {"unit": ""}
        self.state["work"].update(done=int(done), total=int(total), eta_s=eta(time.monotonic() - self.phase_started, done, total))
        self.write()
        self.raise_if_cancelled()

    def progress(self, name: str, unit: str) -> Progress:
        """A progress callback for a phase whose size the callee knows (Embedder.encode_documents);
        the phase is `name`, whatever the callee calls its work."""
        started = False

        def report(done: int, total: int, phase: str = "", note: str = "") -> None:
            nonlocal started
            if not started:
                started = True
                self.phase(name, total, unit)
            self.work(done, total)

        return report

    def update(self, step: int, total: int, loss: float | None = None, evaluation: dict[str, float] | None = None,
               phase: str = "training") -> None:
        """Trainer steps of a training phase (`phase`): step/total, loss, ETA, validation."""
        if self.state["phase"] != phase:
            self.phase(phase)
        left = eta(time.monotonic() - self.phase_started, step, total)
        self.state.update(step=int(step), total=int(total), eta_s=left, work={"done": int(step), "total": int(total), "unit": "steps", "eta_s": left})
        if loss is not None:
            self.state["loss"] = round(float(loss), 5)
            self.state["history"].append({"step": int(step), "loss": round(float(loss), 5)})
        if evaluation:
            self.state["eval"] = {k: round(float(v), 5) for k, v in evaluation.items()}
            if VALIDATION_METRIC in evaluation:
                self.state["history"].append({"step": int(step), f"eval_{VALIDATION_METRIC}": round(float(evaluation[VALIDATION_METRIC]), 5)})
        if len(self.state["history"]) > MAX_HISTORY:  # long runs: keep the curve's shape, not every step
            self.state["history"] = self.state["history"][::2]
        self.write(force=bool(evaluation))

    def write(self, force: bool = False) -> None:
        if not self.primary:
            return
        self.tell()
        if not force and time.monotonic() - self._last_write < WRITE_EVERY_S:
            return
        self._last_write = time.monotonic()
        self.store.update_where("runs", {"run_id": self.run_id}, {"progress": json.dumps(self.state)})

    def tell(self) -> None:
        """The state as the listener's `Progress`: a phase without a count (loading the model) is
        total 0; a run's final status is no phase of its work."""
        if self.listener is None or self.state["phase"] in FINAL:
            return
        work = self.state.get("work") or {}
        note = []
        if work.get("unit") == "steps" and self.state["loss"] is not None:
            note.append(f"loss {self.state['loss']:.4g}")
        if work.get("unit") == "steps":
            note += [f"validation {k} {v:.3f}" for k, v in self.state["eval"].items()]
        self.listener(int(work.get("done", 0)), int(work.get("total", 0)), self.state["phase"], ", ".join(note))

    def should_stop(self) -> bool:
        if self.cancel.is_set():
            self.stop_reason = "cancelled"
        elif self.primary and time.monotonic() - self._last_check > CANCEL_CHECK_EVERY_S:
            self._last_check = time.monotonic()
            if cancel_requested(self.store, self.run_id):
                self.cancel.set()
                self.stop_reason = "cancelled"
        if not self.stop_reason and self.deadline is not None and time.monotonic() > self.deadline:
            self.stop_reason = "time budget"
        return bool(self.stop_reason)

    def raise_if_cancelled(self) -> None:
        if self.should_stop() and self.stop_reason == "cancelled":
            raise Cancelled()


def train_threads(settings: Settings) -> int:
    """Torch threads for a run beside the app: the setting, or every core but one."""
    return settings.train_threads if settings.train_threads > 0 else max(1, (os.cpu_count() or 1) - 1)


Work = Callable[[Store, Settings, str, dict[str, Any], Reporter], dict[str, Any]]


class Job:
    """One training run off the script thread: start(), status(), progress(), cancel(), wait()."""

    def __init__(self, store: Store, settings: Settings, run_id: str, work: Work, config: dict[str, Any], time_budget_s: float = 0.0):
        self.store, self.settings, self.run_id, self.work, self.config = store, settings, run_id, work, config
        self.cancel_event = threading.Event()
        self.primary = int(os.environ.get("RANK", "0")) == 0
        self.reporter = Reporter(store, run_id, self.cancel_event, time_budget_s, primary=self.primary)
        self.thread: threading.Thread | None = None
        self.result: dict[str, Any] = {}

    @classmethod
    def create(cls, store: Store, settings: Settings, kind: str, base_model: str, config: dict[str, Any], work: Work, actor: str | User = "cli") -> Job:
        """Insert the run row (queued); refuses while another run is active in a live process."""
        actor = actor_name(actor, Action.train)
        mark_interrupted(store, settings.models_dir)
        sweep_run_folders(store, settings.models_dir)
        primary = int(os.environ.get("RANK", "0")) == 0
        if primary and store.count("runs", {"status": ACTIVE}):
            active = store.read("runs", where={"status": ACTIVE}, columns=["run_id"])
            raise ConflictError(f"run {active['run_id'].iloc[0]} is still going: wait for it or cancel it, one run at a time.")
        run_id = os.environ.get("FLYWHEEL_RUN_ID") or f"{now():%Y%m%d-%H%M%S}-{kind}-{uuid.uuid4().hex[:6]}"
        if primary:
            store.add("runs", [Run(run_id=run_id, kind=kind, base_model=base_model, config=json.dumps(config), pid=os.getpid(),
                              host=this_host(), created_at=now())])
            store.log(actor, "launch", target("run", run_id), kind=kind)
        return cls(store, settings, run_id, work, config, float(config.get("time_budget_s") or 0))

    def start(self) -> Job:
        self.thread = threading.Thread(target=self._run_beside_app, name=f"flywheel-{self.run_id}", daemon=True)
        self.thread.start()
        return self

    def _run_beside_app(self) -> None:
        """A background run shares its process with the app's script threads, and torch's thread
        count is process-wide: cap it while the run lasts so reviewers keep a core."""
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(train_threads(self.settings))
        try:
            self.run()
        finally:
            torch.set_num_threads(before)

    def run(self) -> dict[str, Any]:
        """The job body; call directly to run in the foreground (CLI, accelerate launch)."""
        self._set(status=RunStatus.running.value, started_at=now(), heartbeat=now().isoformat())
        stop_beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop_beating,), name=f"flywheel-heartbeat-{self.run_id}", daemon=True)
        beat.start()
        try:
            self.result = self.work(self.store, self.settings, self.run_id, self.config, self.reporter) or {}
        except Cancelled:
            self._finish(RunStatus.cancelled.value, "Cancelled before it finished.")
        except FlywheelError as error:
            self._finish(RunStatus.failed.value, str(error))
        except BaseException as error:  # noqa: BLE001 - any failure (OOM, bad model) ends the run, never the app
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self._finish(RunStatus.failed.value, f"{detail}\n\n{traceback.format_exc(limit=6)}")
        else:
            self._finish(RunStatus.succeeded.value, "", model_path=str(self.result.get("model_path", "")))
        finally:
            stop_beating.set()
        return self.result

    def _beat(self, stop: threading.Event) -> None:
        """Say the run is alive every HEARTBEAT_EVERY, so another host sharing the workspace never
        takes it for dead; a failed beat is retried at the next one."""
        while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                self._set(heartbeat=now().isoformat())
            except Exception:  # noqa: BLE001 - a transient storage error must not end the run
                continue

    def _set(self, **values: Any) -> None:
        if self.primary:
            self.store.update_where("runs", {"run_id": self.run_id}, values)

    def _finish(self, status: str, error: str, **values: Any) -> None:
        self.reporter.close_phase()
        self.reporter.state["phase"] = status
        self.reporter.write(force=True)
        self._set(status=status, error=error, finished_at=now(), **values)

    def status(self) -> str:
        return str(read_run(self.store, self.run_id)["status"])

    def progress(self) -> dict[str, Any]:
        return read_run(self.store, self.run_id)["progress"]

    def cancel(self, actor: str | User = "cli") -> None:
        actor_name(actor, Action.cancel)
        self.cancel_event.set()
        request_cancel(self.store, self.run_id, actor)

    def wait(self, timeout: float | None = None) -> str:
        if self.thread is not None:
            self.thread.join(timeout)
        return self.status()

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def request_cancel(store: Store, run_id: str, actor: str | User) -> None:
    """Ask a run to stop, from any session or process: its reporter sees the event within seconds."""
    actor = actor_name(actor, Action.cancel)
    row = read_run(store, run_id)
    if row["status"] not in ACTIVE:
        raise ConflictError(f"run {run_id} is already {row['status']}: only a queued or running run can be cancelled.")
    store.log(actor, "cancel", target("run", run_id))
    if run_gone(row):
        mark_interrupted(store)


def list_runs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Training runs newest first (learning-curve jobs are listed by the curve, not here): id, name,
    tags, kind, status, times, error, and the before/after headline numbers."""
    runs = store.read("runs", where={"kind": Not(RunKind.curve)},
                      columns=["run_id", "name", "tags", "kind", "base_model", "status", "error", "model_path", "created_at",
                               "finished_at", "progress"])
    runs = runs.sort_values("created_at", ascending=False).head(limit)
    metrics = store.read("metrics", where={"run_id": list(runs["run_id"]), "k": 10, "name": ["recall", "ndcg"]}) if len(runs) else None
    out = []
    for row in runs.to_dict("records"):
        item = {k: row[k] for k in ("run_id", "name", "tags", "kind", "base_model", "status", "model_path", "created_at", "finished_at")}
        item["error"] = str(row["error"]).splitlines()[0] if row["error"] else ""
        item["phase"] = json.loads(row["progress"] or "{}").get("phase", "")
        if metrics is not None:
            mine = metrics[metrics["run_id"] == row["run_id"]]
            for stage, name, value in zip(mine["stage"], mine["name"], mine["value"]):
                item[f"{stage}_{name}@10"] = round(float(value), 4)
        out.append(item)
    return out


def display_name(run: dict) -> str:
    """What people read for a run: its name, or its kind and start time until it has one."""
    if run.get("name"):
        return str(run["name"])
    created = run.get("created_at")
    when = created.strftime("%b %d %H:%M") if hasattr(created, "strftime") else str(created or "")[:16]
    return f"{run.get('kind', 'run')} {when}".strip()


def rename_run(store: Store, run_id: str, name: str, tags: str, actor: str | User) -> None:
    """Name and tag a run (any time, running or not); logged, so who renamed what stays visible."""
    actor = actor_name(actor, Action.train)
    read_run(store, run_id)
    clean_tags = ", ".join(t.strip() for t in tags.split(",") if t.strip())
    store.update_where("runs", {"run_id": run_id}, {"name": name.strip(), "tags": clean_tags})
    store.log(actor, "rename", target("run", run_id), name=name.strip(), tags=clean_tags)


def active_run(store: Store) -> str | None:
    """The queued or running run, if any (after marking dead processes' runs interrupted)."""
    mark_interrupted(store)
    rows = store.read("runs", where={"status": ACTIVE}, columns=["run_id"])
    return None if rows.empty else str(rows["run_id"].iloc[0])


BUNDLED_BASE = "bundled:all-MiniLM-L6-v2"  # a run row's base_model when its config names none


def new_run(store: Store, settings: Settings, kind: str, config: dict[str, Any], work: Work, actor: str | User = "cli") -> Job:
    """The row of a run or a curve, made the same way by every launcher (app, CLI, curve, Ray): the
    role checked first, then approved queries with no side drawn into splits (a fresh import trains
    as it is), then the row."""
    actor_name(actor, Action.train)
    splits.assign_unassigned(store, actor)
    return Job.create(store, settings, kind, config.get("base_model") or BUNDLED_BASE, config, work, actor=actor)


def launch(store: Store, settings: Settings, kind: str, config: dict[str, Any], work: Work, actor: str | User = "cli",
           background: bool = True, progress: Progress | None = None) -> Job:
    """Start a run or a curve in a thread (the app), or in the foreground (the CLI); `progress`
    hears the phases, counts, loss and validation score as the row does (the CLI's bar)."""
    job = new_run(store, settings, kind, config, work, actor)
    job.reporter.listener = progress
    if background:
        return job.start()
    job.run()
    return job
