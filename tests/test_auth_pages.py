"""AppTest with sign-in on: the form, a refused password, role gates by page and by URL, signed grades."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.storage.auth import Users
from core.storage.schemas import QueryStatus
from tests.conftest import PASSWORD, ROOT


@pytest.fixture(autouse=True)
def app_frame(monkeypatch):
    """Run app.py on every rerun, as `flywheel app` does (ui/launch.py), not pages/ as an old-style folder."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def frame_first(self, *args, **kwargs):  # AppTest resets the flag before every run
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", frame_first)


@pytest.fixture
def team(small_store, workspace):
    users = Users(workspace.users_file)
    users.add("ann", "annotator", PASSWORD)
    users.add("eve", "engineer", PASSWORD)
    small_store.update_where("queries", "query_id = 'q1'", {"status": QueryStatus.approved.value})
    return small_store


def signed_in(name: str, password: str = PASSWORD, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    at.text_input(key="signin_name").set_value(name)
    at.text_input(key="signin_password").set_value(password)
    at.button[0].click().run()
    return at


def events(store, action: str) -> list[str]:
    return list(store.read("events", where=f"action = '{action}'", columns=["actor"])["actor"])


def test_the_app_shows_only_the_sign_in_form_and_refuses_a_wrong_password(team):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.metric
    at = signed_in("ann", "not the password")
    assert at.error[0].value == "Wrong name or password." and not at.metric
    assert events(team, "sign_in_failed") == ["ann"] and events(team, "sign_in") == []
    at = signed_in("ann")
    assert not at.exception and at.metric  # Home
    assert events(team, "sign_in") == ["ann"]
    assert not [t for t in at.text_input if t.label == "Reviewer"]  # the name comes from the sign-in


def test_an_annotator_cannot_import_export_or_train_even_by_url(team):
    at = signed_in("ann")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    notices = [i.value for i in at.info]
    for what in ("Importing data", "Importing interaction logs", "Exporting data"):
        assert any(f"{what} needs the engineer role" in n for n in notices)
    assert not [b for b in at.button if b.label in ("Import", "Prepare download")]
    at.switch_page("pages/train.py").run()
    assert "The Train page needs the engineer role" in at.warning[0].value
    assert not [b for b in at.button if b.label in ("Train", "Assign split")]


def test_an_engineer_can_export_and_the_export_is_logged(team):
    at = signed_in("eve")
    at.switch_page("pages/data.py").run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception and at.session_state["export"][0] == "beir"
    assert events(team, "export") == ["eve"]


def test_grades_carry_the_signed_in_name_whatever_the_url_says(team):
    at = signed_in("ann", query={"reviewer": "mallory"})
    at.session_state["g_mode"], at.session_state["g_k"] = "full-text", 3
    at.switch_page("pages/grade.py").run()
    assert not at.exception
    at.button(key="grade_4").click().run()
    assert set(team.read("judgments", where="reviewer != 'import:small'")["reviewer"]) == {"ann"}


def test_oidc_sign_in_takes_the_name_from_the_provider_and_the_role_from_the_users_file(team):
    Users(team.uri.removesuffix("/db") + "/users.json").add("eve@example.org", "engineer", None)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric and not at.text_input
    at.user = {"is_logged_in": True, "email": "eve@example.org"}
    at.run()
    assert not at.exception and at.metric
    assert "Signed in as" in at.sidebar.markdown[0].value and "engineer" in at.sidebar.markdown[0].value
    assert events(team, "sign_in") == ["eve@example.org"]
