"""The viewer role (issue 24): a PM reads Results, Agreement and Data and downloads the report and
CSVs, and changes nothing: every page that writes refuses them, by menu and by URL, and so does core."""

from __future__ import annotations

import io
import json
import sys

import pytest

from core.commands.main import main
from core.labeling import guidelines, logs
from core.labeling.export import export
from core.labeling.generation import OfflineGenerator, generate
from core.storage import accounts
from core.storage.auth import Action, PermissionDenied, Role, User, Users, minimum_role
from core.storage.imports import import_path
from core.storage.splits import assign_splits
from core.training import jobs
from tests import test_auth_pages
from tests.conftest import SHARED
from tests.results_seed import seed_results
from tests.test_auth_pages import PASSWORD, signed_in
from ui import results_view

app_frame = test_auth_pages.app_frame  # autouse there: app.py frames every run
PM = User("pam", Role.viewer)
WRITES = (Action.review, Action.grade, Action.generate, Action.import_data, Action.export_data, Action.train, Action.cancel,
          Action.edit_guidelines, Action.manage_users, Action.choose_workspace, Action.delete)


@pytest.fixture
def product(store, workspace):
    """Seeded runs (Results has something to show) and a viewer beside an admin."""
    seed_results(store)
    users = Users(workspace.users_file)
    users.add("ada", "admin", PASSWORD)
    users.add("pam", "viewer", PASSWORD)
    return store


def test_a_viewer_reads_and_downloads_and_may_do_nothing_else():
    assert PM.can(Action.read) and PM.can(Action.report)
    assert not any(PM.can(a) for a in WRITES)
    assert minimum_role(Action.read) is Role.viewer and minimum_role(Action.report) is Role.viewer
    for lower, higher in zip(list(Role), list(Role)[1:]):  # a ladder: a role may all that the one below it may
        assert {a for a in Action if User("x", lower).can(a)} < {a for a in Action if User("x", higher).can(a)}


def test_core_refuses_every_write_of_a_viewer(small_store, workspace, tmp_path):
    with pytest.raises(PermissionDenied, match="expects the engineer role, but pam is viewer"):
        import_path(small_store, SHARED / "cranfield", actor=PM)
    with pytest.raises(PermissionDenied):
        export(small_store, "beir", tmp_path / "out", actor=PM)
    with pytest.raises(PermissionDenied):
        generate(small_store, OfflineGenerator(), small_store.read("documents"), actor=PM)
    with pytest.raises(PermissionDenied):
        assign_splits(small_store, actor=PM)
    with pytest.raises(PermissionDenied):
        jobs.Job.create(small_store, workspace, "adapter", "m", {}, lambda *a: {}, actor=PM)
    job = jobs.Job.create(small_store, workspace, "adapter", "m", {}, lambda *a: {}, actor=User("eve", Role.engineer))
    with pytest.raises(PermissionDenied):
        jobs.request_cancel(small_store, job.run_id, PM)
    with pytest.raises(PermissionDenied):
        guidelines.save(small_store, PM, "5 = answers it")
    with pytest.raises(PermissionDenied):
        logs.promote(small_store, PM, "q1", "eval")
    with pytest.raises(PermissionDenied):
        accounts.add_user(small_store, Users(workspace.users_file), PM, "bob", "admin", "a long password")
    assert not (tmp_path / "out").exists() and Users(workspace.users_file).get("bob") is None
    assert small_store.count("queries") == 8 and small_store.count("runs") == 1
    assert set(small_store.read("events", columns=["actor"])["actor"]) == {"eve"}  # the launch only


def test_flywheel_users_adds_and_sets_the_viewer_role(workspace, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "pam", "--role", "viewer", "--password-stdin"]) == 0
    assert main(["users", "add", "ada", "--role", "admin", "--oidc"]) == 0
    assert main(["users", "role", "ada", "viewer"]) == 2  # the last admin stays an admin
    assert main(["users", "role", "pam", "annotator"]) == 0 and main(["users", "role", "pam", "viewer"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"name": "ada", "role": "admin"}, {"name": "pam", "role": "viewer"}]


def test_the_users_page_adds_a_viewer(product, workspace):
    at = signed_in("ada")
    at.switch_page("pages/users.py").run()
    form = at.tabs[0]
    assert "viewer" in form.selectbox[0].options
    form.text_input[0].set_value("vic")
    form.selectbox[0].set_value("viewer")
    form.text_input[1].set_value("vic's password")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert not at.exception and not at.error, at.error
    assert Users(workspace.users_file).get("vic").role is Role.viewer


@pytest.mark.parametrize("path, role", [("pages/review.py", "annotator"), ("pages/grade.py", "annotator"),
                                        ("pages/hard_negatives.py", "annotator"), ("pages/train.py", "engineer"),
                                        ("pages/logs.py", "engineer"), ("pages/users.py", "admin")])
def test_a_viewer_reaching_a_page_that_writes_by_url_is_refused(product, path, role):
    at = signed_in("pam")
    at.switch_page(path).run()
    assert not at.exception and not at.error, at.error
    assert f"page needs the {role} role; you are signed in as pam (viewer)" in at.warning[0].value
    assert [b.label for b in at.button] == ["Sign out"]  # nothing of the page ran: no control to press
    assert not at.text_input and not at.dataframe


def test_a_viewer_reads_data_agreement_and_results_and_downloads_the_report(product):
    at = signed_in("pam")
    for path in ("pages/home.py", "pages/data.py", "pages/agreement.py"):
        at.switch_page(path).run()
        assert not at.exception and not at.warning and not at.error, (path, at.warning, at.error)
    at.switch_page("pages/data.py").run()
    notices = " ".join(i.value for i in at.info)
    for what in ("Importing data", "Importing interaction logs", "Exporting data"):
        assert f"{what} needs the engineer role; you are viewer" in notices
    at.switch_page("pages/results.py").run()
    assert not at.exception and at.metric
    at.session_state["results_tab"] = results_view.TABS[3]
    at.run()
    assert {b.label for b in at.get("download_button")} == {"HTML report", "All metrics (CSV)", "Per query, Recall@10 (CSV)"}
    at.session_state["results_tab"] = results_view.TABS[2]
    at.run()
    assert not at.exception and at.expander  # the drill-down reads…
    assert not [b for b in at.button if b.key and b.key.startswith("results_grade_")]  # …but does not send a viewer to Grade
    assert next(b for b in at.button if b.key == "curve_launch").disabled
