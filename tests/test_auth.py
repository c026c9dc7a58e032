"""Users, roles and the checks at core's entry points; `flywheel users`; `flywheel app` on loopback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import pytest

from core.commands.main import main
from core.errors import InputError
from core.labeling.export import export
from core.labeling.generation import OfflineGenerator, generate
from core.storage.auth import Action, PermissionDenied, Role, User, Users
from core.storage.imports import import_path
from core.storage.splits import assign_splits
from core.training import jobs
from tests.conftest import ROOT, SHARED, free_port

ANN, ENG = User("ann", Role.annotator), User("eve", Role.engineer)


def test_users_file_hashes_verifies_and_refuses(tmp_path):
    users = Users(tmp_path / "users.json")
    assert not users.enabled
    users.add("ann", "annotator", "correct horse")
    stored = (tmp_path / "users.json").read_text()
    assert "correct horse" not in stored and "$argon2id$" in stored
    assert oct((tmp_path / "users.json").stat().st_mode)[-3:] == "600"
    assert users.enabled and users.verify("ann", "correct horse") == ANN
    assert users.verify("ann", "wrong horse") is None and users.verify("nobody", "correct horse") is None
    with pytest.raises(InputError, match="at least 8"):
        users.add("bob", "engineer", "short")
    with pytest.raises(InputError, match="user name expects"):
        users.add("x" * 10_000, "engineer", "long enough")
    with pytest.raises(InputError, match="role expects"):
        users.add("bob", "owner", "long enough")
    users.add("carol", "engineer", None)  # OIDC only: no password signs in
    assert users.verify("carol", "") is None and users.get("carol").role is Role.engineer


def test_roles_allow_what_the_issue_lists():
    assert ANN.can(Action.grade) and ANN.can(Action.review) and ANN.can(Action.read)
    assert ANN.can(Action.report)  # what a viewer may (issue 24): reading and downloading change nothing
    assert not any(ANN.can(a) for a in (Action.import_data, Action.export_data, Action.train, Action.cancel))
    assert ENG.can(Action.train) and ENG.can(Action.cancel) and not ENG.can(Action.manage_users)
    assert all(User("root", Role.admin).can(a) for a in Action)


def test_an_annotator_cannot_import_export_train_or_cancel_in_core(small_store, workspace, tmp_path):
    with pytest.raises(PermissionDenied, match="expects the engineer role, but ann is annotator"):
        import_path(small_store, SHARED / "cranfield", actor=ANN)
    with pytest.raises(PermissionDenied):
        export(small_store, "beir", tmp_path / "out", actor=ANN)
    assert not (tmp_path / "out").exists()
    with pytest.raises(PermissionDenied):
        jobs.Job.create(small_store, workspace, "adapter", "m", {}, lambda *a: {}, actor=ANN)
    assert small_store.count("runs") == 0
    job = jobs.Job.create(small_store, workspace, "adapter", "m", {}, lambda *a: {}, actor=ENG)
    with pytest.raises(PermissionDenied):
        jobs.request_cancel(small_store, job.run_id, ANN)
    with pytest.raises(PermissionDenied):
        job.cancel(ANN)
    assert not job.cancel_event.is_set()
    with pytest.raises(PermissionDenied):
        assign_splits(small_store, actor=ANN)
    with pytest.raises(PermissionDenied):
        generate(small_store, OfflineGenerator(), small_store.read("documents"), actor=ANN)
    assert small_store.count("queries") == 8
    jobs.request_cancel(small_store, job.run_id, ENG)
    export(small_store, "beir", tmp_path / "out", actor=ENG)
    events = small_store.read("events", columns=["actor", "action"])
    assert {("eve", "launch"), ("eve", "cancel"), ("eve", "export")} <= set(map(tuple, events.to_numpy()))


def test_cli_users_add_list_role_passwd_remove_are_logged(workspace, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "ann", "--role", "annotator", "--password-stdin"]) == 0
    assert main(["users", "role", "ann", "engineer"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("another password\n"))
    assert main(["users", "passwd", "ann", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "ann", "role": "engineer"}]
    assert Users(workspace.users_file).verify("ann", "another password") is not None
    assert main(["users", "remove", "ann"]) == 0
    assert main(["users", "remove", "ann"]) == 2 and "does not exist" in capsys.readouterr().err
    from core.storage.store import Store

    events = Store(workspace.db_uri).read("events", columns=["action", "target", "detail"])
    assert list(events.sort_values("action")["action"]) == ["password_changed", "role_changed", "user_added", "user_removed"]
    assert json.loads(events[events["action"] == "role_changed"]["detail"].iloc[0]) == {"old": "annotator", "new": "engineer"}


def test_read_only_commands_never_create_a_workspace(workspace, capsys):
    for command in (["status"], ["runs"], ["judgments"], ["review-status"], ["export", "--format", "beir"], ["report", "r1"],
                    ["users", "list"]):
        main(command)
    assert not os.path.exists(workspace.workspace)
    assert "expects an existing workspace" in capsys.readouterr().err


def test_app_refuses_a_public_host_without_sign_in(workspace, capsys):
    assert main(["app", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "expects sign-in" in capsys.readouterr().err


def listening(port: int) -> list[str]:
    """Local addresses listening on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                found.append(address)
    return found


def test_default_flywheel_app_listens_on_loopback_only(workspace):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "core.commands.main", "app", "--port", str(port), "--headless"],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not listening(port) and time.time() < deadline:
            time.sleep(0.3)
        addresses = listening(port)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert addresses == ["0100007F"]  # 127.0.0.1 only: not 0.0.0.0 and no IPv6 wildcard
    deadline = time.time() + 10
    while listening(port) and time.time() < deadline:
        time.sleep(0.2)
    assert listening(port) == []  # stopping `flywheel app` stops the server (it used to outlive its parent)
