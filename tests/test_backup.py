"""Backups of a live workspace and their restore (core.storage.backup, flywheel backup | restore)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import lancedb
import pyarrow.compute as pc
import pytest

from core.commands.main import main
from core.errors import InputError
from core.settings import Settings
from core.storage import backup as backups
from core.storage import retention
from core.storage.auth import Users
from core.storage.demo import load_demo
from core.storage.schemas import Run, now
from core.storage.store import Store
from tests.stress_worker import collect

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("stress_worker.py")
GRADERS = 5


def at_version(uri: str, name: str, version: int):
    table = lancedb.connect(uri).open_table(name)
    table.checkout(version)
    return table.to_arrow()


def rows(table, columns) -> list[tuple]:
    return sorted(table.select(columns).to_pylist(), key=lambda r: tuple(str(r[c]) for c in columns))


def test_backup_while_five_graders_work_restores_the_snapshot(store: Store, tmp_path):
    load_demo(store)
    workers = [subprocess.Popen([sys.executable, str(WORKER), store.uri, f"reviewer-{i}", "--grades", "40", "--seed", str(i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(GRADERS)]
    deadline = time.monotonic() + 300
    while store.count("judgments", "reviewer LIKE 'reviewer-%'") < 20:  # the graders are well under way
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), "the graders did not get going"
        time.sleep(0.2)
    out = tmp_path / "backup"
    taken = subprocess.run([sys.executable, "-m", "core.commands.main", "--workspace", str(Path(store.uri).parent), "backup",
                            "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert taken.returncode == 0, taken.stderr[-3000:]
    still_grading = sum(w.poll() is None for w in workers)
    results = []
    for i, worker in enumerate(workers):
        stdout, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr[-3000:]
        results.append(collect(f"reviewer-{i}", stdout))
    manifest = json.loads((out / "manifest.json").read_text())
    assert still_grading == GRADERS and manifest["exact_moment"], manifest  # taken while all five wrote, at one moment

    dest = tmp_path / "restored"
    assert main(["restore", str(out), "--workspace", str(dest)]) == 0
    restored = Store(Settings(workspace=str(dest)).db_uri)
    for name in ("judgments", "events"):
        entry = manifest["tables"][name]
        table = restored.table(name).to_arrow()
        if name == "events":  # the restore itself is logged, once
            assert restored.count("events", "action = 'restore'") == 1
            table = table.filter(pc.not_equal(table["action"], "restore"))
        assert (table.num_rows, backups.digest(table)) == (entry["rows"], entry["digest"]), name
        # ...and the manifest is what the live workspace held at those versions
        assert rows(table, table.column_names) == rows(at_version(store.uri, name, entry["version"]), table.column_names)
    graded = restored.count("judgments", "reviewer LIKE 'reviewer-%'")
    acknowledged = sum(len(r["acked"]) for r in results)
    assert 20 <= graded < store.count("judgments", "reviewer LIKE 'reviewer-%'") <= acknowledged  # a mid-grading snapshot


def test_restore_checks_the_manifest_and_refuses_a_used_workspace(small_store: Store, workspace: Settings, tmp_path):
    out = tmp_path / "backup"
    backups.backup(small_store, workspace, out)
    with pytest.raises(InputError, match="new or empty workspace|new or empty folder"):
        backups.restore(out, workspace)  # the live workspace itself
    damaged = lancedb.connect(str(out / "db")).open_table("judgments")
    damaged.update(where="doc_id = 'd1'", values={"grade": 0})
    with pytest.raises(InputError, match="table 'judgments' of the backup"):
        backups.restore(out, Settings(workspace=str(tmp_path / "elsewhere")))
    (out / "manifest.json").unlink()
    with pytest.raises(InputError, match="manifest.json"):
        backups.restore(out, Settings(workspace=str(tmp_path / "third")))


def test_backup_carries_users_files_and_models(small_store: Store, workspace: Settings, tmp_path):
    users = Users(workspace.users_file)
    users.add("alice", "admin", "a long password")
    (workspace.users_file.with_name("users.session-key")).write_bytes(b"k" * 32)
    run_dir = workspace.models_dir / "r1"
    (run_dir / "model").mkdir(parents=True)
    (run_dir / "model" / "weights.bin").write_bytes(b"\x01\x02")
    (run_dir / "README.md").write_text("model card")
    (run_dir / "pipeline.json").write_text(json.dumps({"workspace": small_store.uri, "stages": ["dense"]}))
    small_store.add("runs", [Run(run_id="r1", kind="bi-encoder", base_model="m", status="succeeded",
                                 model_path=str(run_dir / "model"), created_at=now())])
    out = tmp_path / "backup"
    manifest = backups.backup(small_store, workspace, out)
    assert set(manifest["users"]) == {"users.json", "users.session-key"} and set(manifest["models"]) == {"r1"}

    dest = Settings(workspace=str(tmp_path / "restored"))
    backups.restore(out, dest)
    assert dest.users_file.read_bytes() == workspace.users_file.read_bytes()
    assert stat.S_IMODE(os.stat(dest.users_file).st_mode) == 0o600
    assert Users(dest.users_file).get("alice").role.value == "admin"
    restored = Store(dest.db_uri)
    model_path = Path(restored.read_rows("runs")[0]["model_path"])
    assert model_path == dest.models_dir / "r1" / "model" and (model_path / "weights.bin").read_bytes() == b"\x01\x02"
    assert (model_path.parent / "README.md").read_text() == "model card"
    assert json.loads((model_path.parent / "pipeline.json").read_text())["workspace"] == restored.uri


@pytest.mark.filterwarnings("ignore:optimize.cleanup_older_than=0")
def test_backup_at_an_earlier_time_and_how_far_back(small_store: Store, workspace: Settings, tmp_path):
    from core.labeling import grading

    grading.grade(small_store, "ann", "q1", "d1", 4)
    time.sleep(0.05)
    then = now()
    time.sleep(0.05)
    grading.grade(small_store, "ann", "q1", "d2", 3)
    manifest = backups.backup(small_store, workspace, tmp_path / "then", at=then)
    old = lancedb.connect(str(tmp_path / "then" / "db")).open_table("judgments").to_arrow()
    assert {(r["doc_id"], r["grade"]) for r in old.to_pylist() if r["reviewer"] == "ann"} == {("d1", 4)}
    assert manifest["at"] == then.isoformat()

    retention.optimize(small_store, keep=timedelta(0))  # prune every earlier version
    since = retention.restorable_since(small_store)
    assert since is not None and since > then.isoformat()
    with pytest.raises(InputError, match="expects a time since"):
        backups.backup(small_store, workspace, tmp_path / "too-old", at=then)


def test_cli_restore_names_its_workspace(small_store: Store, workspace: Settings, tmp_path, capsys, monkeypatch):
    assert main(["backup", "--out", str(tmp_path / "b")]) == 0
    monkeypatch.delenv("FLYWHEEL_WORKSPACE")
    assert main(["restore", str(tmp_path / "b")]) == 2
    assert "restore expects --workspace DEST" in capsys.readouterr().err
