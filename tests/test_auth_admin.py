"""Sign-in beyond the form: the admin's Users page, the shared sign-in throttle, the signed session
token behind the cookie, and who may edit the grading guidelines (AppTest and core)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InputError
from core.storage import sessions
from core.storage.auth import Users
from core.storage.throttle import FIRST_DELAY_S, MAX_FAILURES, WINDOW_S, SignInThrottle
from tests import test_auth_pages
from tests.conftest import ROOT
from tests.test_auth_pages import PASSWORD, events, signed_in
from ui.safe_text import escape

USERS = "pages/users.py"
app_frame = test_auth_pages.app_frame  # autouse there: app.py frames every run
team = test_auth_pages.team  # ann (annotator) and eve (engineer)


@pytest.fixture
def admin_team(team, workspace):
    Users(workspace.users_file).add("ada", "admin", PASSWORD)
    return team


def form_submit(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def user_rows(at: AppTest) -> dict[str, str]:
    frame = at.dataframe[0].value
    return dict(zip(frame["name"], frame["role"], strict=True))


def test_the_users_page_is_for_admins_only(admin_team):
    at = signed_in("eve")
    at.switch_page(USERS).run()
    assert not at.exception
    assert "The Users page needs the admin role" in at.warning[0].value and not at.dataframe
    at = signed_in("ada")
    at.switch_page(USERS).run()
    assert not at.exception and user_rows(at) == {"ada": "admin", "ann": "annotator", "eve": "engineer"}


def test_an_admin_adds_changes_resets_and_removes_users_and_each_change_is_an_event(admin_team, workspace):
    at = signed_in("ada")
    at.switch_page(USERS).run()
    form = at.tabs[0]
    form.text_input[0].set_value("bob")
    form.selectbox[0].set_value("engineer")
    form.text_input[1].set_value("bob's password")
    form_submit(at, "Add user").click().run()
    assert not at.exception and not at.error, at.error
    assert user_rows(at)["bob"] == "engineer" and at.success[0].value == escape("Added bob (engineer).")
    users = Users(workspace.users_file)
    assert users.verify("bob", "bob's password") is not None

    at.selectbox(key="users_role_name").set_value("bob")
    at.selectbox(key="users_role_value").set_value("annotator")
    form_submit(at, "Change role").click().run()
    assert users.get("bob").role == "annotator"

    at.selectbox(key="users_password_name").set_value("bob")
    at.tabs[2].text_input[0].set_value("a new password")
    form_submit(at, "Reset password").click().run()
    assert users.verify("bob", "a new password") is not None and users.verify("bob", "bob's password") is None

    at.selectbox(key="users_remove_name").set_value("bob")
    form_submit(at, "Remove user").click().run()
    assert users.get("bob") is not None and "Tick the box" in at.warning[0].value  # not without confirming
    at.tabs[3].checkbox[0].check()
    form_submit(at, "Remove user").click().run()
    assert users.get("bob") is None and "bob" not in user_rows(at)
    for action in ("user_added", "role_changed", "password_changed", "user_removed"):
        assert events(admin_team, action) == ["ada"], action


def test_the_last_admin_cannot_be_removed_or_demoted(admin_team, workspace):
    at = signed_in("ada")
    at.switch_page(USERS).run()
    at.selectbox(key="users_role_name").set_value("ada")
    at.selectbox(key="users_role_value").set_value("engineer")
    form_submit(at, "Change role").click().run()
    assert escape("but ada is the last admin; make another user admin first") in at.error[0].value
    at.selectbox(key="users_remove_name").set_value("ada")
    at.tabs[3].checkbox[0].check()
    form_submit(at, "Remove user").click().run()
    assert escape("but ada is the last admin;") in at.error[0].value
    users = Users(workspace.users_file)
    assert users.get("ada").role == "admin" and events(admin_team, "role_changed") == []
    users.set_role("eve", "admin")  # with a second admin, ada may step down
    users.set_role("ada", "engineer")
    with pytest.raises(InputError, match="eve is the last admin"):
        users.remove("eve")


def test_five_failures_lock_the_name_for_a_growing_delay_across_sessions(team):
    for _ in range(MAX_FAILURES - 1):
        at = signed_in("ann", "wrong password")  # each try a new session: the count is not session state
        assert at.error[0].value == "Wrong name or password."
    at = signed_in("ann", "wrong password")
    assert at.error[0].value == escape(f"too many failed sign-ins for ann; try again in {FIRST_DELAY_S} s")
    at = signed_in("ann")  # the right password is refused too while the name waits
    assert at.error[0].value.startswith(escape("too many failed sign-ins for ann; try again in")) and not at.metric
    assert len(events(team, "sign_in_failed")) == MAX_FAILURES and events(team, "sign_in_refused") == ["ann"]
    assert signed_in("eve").metric  # other names are not affected


def test_the_throttle_delay_grows_expires_and_clears_on_success(workspace):
    throttle = SignInThrottle(Users(workspace.users_file))
    t = 1_000_000.0
    for i in range(MAX_FAILURES - 1):
        assert throttle.failed("ann", now=t + i) == 0
    assert throttle.failed("ann", now=t + 10) == FIRST_DELAY_S
    assert throttle.wait("ann", now=t + 10 + FIRST_DELAY_S - 5) == 5
    assert throttle.wait("ann", now=t + 10 + FIRST_DELAY_S) == 0
    assert throttle.failed("ann", now=t + 50) == 2 * FIRST_DELAY_S  # one more failure: twice as long
    assert throttle.wait("ann", now=t + WINDOW_S + 60) == 0  # old failures age out of the window
    assert stat.S_IMODE(os.stat(throttle.path).st_mode) == 0o600
    throttle.succeeded("ann")
    assert throttle.wait("ann", now=t + 51) == 0


def test_a_session_token_names_its_user_until_it_expires_or_the_user_changes(workspace):
    users = Users(workspace.users_file)
    users.add("ann", "annotator", PASSWORD)
    users.add("eve", "engineer", PASSWORD)
    token = sessions.issue(users, "ann", now=1000)
    assert sessions.check(users, token, now=1000 + sessions.LIFETIME_S - 1).name == "ann"
    assert sessions.check(users, token, now=1000 + sessions.LIFETIME_S + 1) is None
    assert stat.S_IMODE(os.stat(sessions.secret_path(users)).st_mode) == 0o600
    name, expires, session, signature = token.split(".")
    other = sessions.issue(users, "eve", now=1000).split(".")[0]
    for forged in (f"{other}.{expires}.{session}.{signature}", f"{name}.{int(expires) + 10**6}.{session}.{signature}",
                   f"{name}.{expires}.{'B' if session[0] == 'A' else 'A'}{session[1:]}.{signature}", f"{name}.{expires}.{signature}", "x", "", None):
        assert sessions.check(users, forged, now=1000) is None
    fresh = sessions.issue(users, "ann")
    users.set_password("ann", "another password")
    assert sessions.check(users, fresh) is None  # a password change ends every session
    fresh = sessions.issue(users, "ann")
    users.set_role("ann", "engineer")
    assert sessions.check(users, fresh) is None
    fresh = sessions.issue(users, "ann")
    users.remove("ann")
    assert sessions.check(users, fresh) is None


def test_a_signed_out_token_is_refused_by_every_process_and_pruned_once_expired(workspace):
    users = Users(workspace.users_file)
    users.add("ann", "annotator", PASSWORD)
    laptop, phone = sessions.issue(users, "ann", now=1000), sessions.issue(users, "ann", now=1000)
    code = ("import sys; from core.storage import sessions; from core.storage.auth import Users; "
            "sys.exit(0 if sessions.revoke(Users(sys.argv[1]), sys.argv[2], now=1001) else 3)")
    subprocess.run([sys.executable, "-c", code, str(workspace.users_file), laptop], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})  # another server process signs the laptop out
    assert sessions.check(users, laptop, now=1002) is None
    assert sessions.check(users, phone, now=1002).name == "ann"  # sign-out ends that session, not the user's others
    assert sessions.check(users, sessions.issue(users, "ann", now=1002), now=1003).name == "ann"  # a fresh sign-in works
    assert stat.S_IMODE(os.stat(sessions.revoked_path(users)).st_mode) == 0o600
    assert not sessions.revoke(users, laptop, now=1000 + sessions.LIFETIME_S + 1)  # expired: refused anyway, not kept
    assert not sessions.revoke(users, "x") and not sessions.revoke(users, None)
    later = sessions.issue(users, "ann", now=1000 + sessions.LIFETIME_S)
    assert sessions.revoke(users, later, now=1000 + sessions.LIFETIME_S + 1)
    assert json.loads(sessions.revoked_path(users).read_text()) == {later.split(".")[2]: 1000 + 2 * sessions.LIFETIME_S}


def test_a_sign_in_asks_the_page_to_set_the_cookie_and_a_sign_out_to_clear_and_revoke_it(team):
    at = signed_in("ann")
    token = next(h.proto.body for h in at.get("html") if sessions.COOKIE in h.proto.body)
    value = token.split(f"{sessions.COOKIE}=")[1].split(";")[0]
    users = Users(team.uri.removesuffix("/db") + "/users.json")
    assert sessions.check(users, value).name == "ann"
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert [t.label for t in at.text_input] == ["Name", "Password"]
    assert any(f"{sessions.COOKIE}=; path=/; max-age=0" in h.proto.body for h in at.get("html"))
    assert sessions.check(users, value) is None  # a copy of the cookie no longer signs in


def test_annotators_read_the_guidelines_and_engineers_edit_them(team):
    at = signed_in("ann")
    at.session_state["g_mode"], at.session_state["g_k"] = "full-text", 3
    at.switch_page("pages/grade.py").run()
    assert not at.exception
    assert not [b for b in at.button if "g_guidelines_form" in (b.key or "")]
    assert any("Editing them needs the engineer role." == c.value for c in at.caption)
    at = signed_in("eve")
    at.session_state["g_mode"], at.session_state["g_k"] = "full-text", 3
    at.switch_page("pages/grade.py").run()
    assert at.button(key="FormSubmitter:g_guidelines_form-Save")


def test_a_password_reset_ends_an_open_session_and_a_role_change_applies_to_it(team, workspace):
    at = signed_in("eve")
    users = Users(workspace.users_file)
    users.set_role("eve", "annotator")
    at.run()
    assert at.metric and "annotator" in at.sidebar.markdown[0].value  # still in, with the new role
    users.set_password("eve", "a brand new password")
    at.run()
    assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.metric
