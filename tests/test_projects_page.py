"""Projects in the app (AppTest): Home lists and makes them, the sidebar switches between them,
every page works inside the chosen one, and the import asks which project a file goes to."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core.storage.imports import import_path
from core.storage.projects import create_project
from core.training import jobs
from tests.conftest import ROOT
from tests.test_auth_pages import app_frame, signed_in, team  # noqa: F401 - fixtures and helper of the signed-in AppTests
from tests.test_projects import ASTRO_QUERIES, astro_zip
from tests.tiny_model import build_tiny_model


@pytest.fixture(autouse=True)
def one_workspace(monkeypatch):
    monkeypatch.delenv("FLYWHEEL_WORKSPACES", raising=False)  # the sidebar's only selectbox is the project's
    from ui.common import _projects

    _projects.clear()  # listings of an earlier test's workspace


@pytest.fixture
def astro(small_store, workspace, tmp_path):
    """A second project holding the tiny astronomy BEIR import (6 documents, 3 train and 2 test queries)."""
    _, store = create_project(workspace, "Astro")
    import_path(store, astro_zip(tmp_path / "files"))
    return store


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def documents_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.endswith(" documents"))


def switch(at: AppTest, project: str) -> None:
    at.sidebar.selectbox(key="project").select(project).run()
    assert not at.exception, at.exception


def test_home_lists_projects_with_counts_and_an_engineer_creates_one(team, astro, app_frame):  # noqa: F811
    at = signed_in("eve")
    table = at.dataframe[-1].value
    assert table[["name", "documents", "queries", "judgments", "runs", "sources"]].values.tolist() == [
        ["default", 12, 8, 16, 0, "small"], ["astro", 6, 5, 5, 0, "astro"]]
    assert table["current"].tolist() == [True, False]
    next(t for t in at.text_input if t.label == "New project").set_value("Scifact 2024")
    next(b for b in at.button if b.label == "Create project").click().run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="project").value == "scifact-2024"
    assert any("Created project `scifact-2024`" in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["Documents"] == "0"  # Home now counts the new, empty project
    assert at.dataframe[-1].value["current"].tolist() == [False, False, True]
    next(t for t in at.text_input if t.label == "New project").set_value("astro")
    next(b for b in at.button if b.label == "Create project").click().run()
    assert any("but 'astro' exists" in e.value.replace("\\", "") for e in at.error)
    assert at.sidebar.selectbox(key="project").value == "scifact-2024"


def test_an_annotator_switches_projects_but_cannot_create_one(team, astro, app_frame):  # noqa: F811
    at = signed_in("ann")
    assert not [t for t in at.text_input if t.label == "New project"]
    switch(at, "astro")
    assert {m.label: m.value for m in at.metric}["Documents"] == "6"


def test_each_project_shows_only_its_own_documents_and_a_switch_drops_the_last_ones_state(astro):
    at = app()
    at.switch_page("pages/data.py").run()
    assert documents_caption(at) == "12 documents"
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert at.session_state["export"][0] == "beir"  # a download of the default project's data
    switch(at, "astro")
    assert documents_caption(at) == "6 documents" and "export" not in at.session_state
    assert not [b for b in at.button if b.label.startswith("Download")]  # not the other project's zip
    assert at.query_params["project"] == "astro"  # a reload keeps the project
    switch(at, "default")
    assert documents_caption(at) == "12 documents" and "project" not in at.query_params
    at.text_input[0].set_value("red giant dying star").run()  # search too stays inside the project
    assert not at.exception and not [e for e in at.expander if "Red giants" in e.label]


def test_a_link_opens_its_project_and_a_bad_one_the_default(astro):
    at = app({"project": "astro"})
    assert {m.label: m.value for m in at.metric}["Documents"] == "6" and at.sidebar.selectbox(key="project").value == "astro"
    at = app({"project": "../astro"})
    assert {m.label: m.value for m in at.metric}["Documents"] == "12"
    assert any("No project" in e.value for e in at.sidebar.error)


def chooser(source: str) -> None:
    """The Data page's project question for an import named `source`; what it answered, in session state."""
    import streamlit as st

    from ui.projects_view import import_target

    st.session_state["target"] = import_target(source)


def ask(source: str) -> AppTest:
    at = AppTest.from_function(chooser, args=(source,), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_an_import_defaults_to_a_new_project_when_this_one_holds_another_corpus(small_store):
    at = ask("cisi")  # the default project holds 'small'
    assert at.selectbox[0].value == "" and at.text_input[0].value == "cisi" and at.session_state["target"].ready
    assert any("Creates project `cisi`" in c.value for c in at.caption) and not at.warning
    at.selectbox[0].select("default").run()
    assert "the next run will train and evaluate on both" in at.warning[0].value
    at = ask("small")  # the same import again (a new split): here, without a warning
    assert at.selectbox[0].value == "default" and not at.warning


def test_an_import_defaults_to_its_own_project_and_refuses_a_taken_new_name(astro, workspace):
    at = ask("astro")
    assert at.selectbox[0].value == "astro" and not at.warning
    at.selectbox[0].select("").run()
    assert any("`astro` exists already" in e.value for e in at.error) and not at.session_state["target"].ready
    at.text_input[0].set_value("..").run()
    assert any("some letters or digits" in e.value for e in at.error) and not at.session_state["target"].ready


def test_an_empty_project_takes_the_import_without_asking_for_a_new_one(workspace):
    assert ask("cisi").selectbox[0].value == "default"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_the_train_page_of_a_project_trains_on_its_own_data_only(astro, small_store, tiny):
    at = app()
    switch(at, "astro")
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert any(m.label == "eval queries" and m.value == "2" for m in at.metric)  # astro's, not the default's 4
    at.radio[0].set_value("adapter")
    at.text_input[0].set_value(tiny)
    at.number_input[3].set_value(5)  # max steps
    at.run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception, at.exception
    deadline = time.time() + 180
    while time.time() < deadline and jobs.active_run(astro):
        time.sleep(0.5)
    run = jobs.read_run(astro, at.session_state["train_run_id"])
    assert run["status"] == "succeeded", run["error"]
    assert run["snapshot"]["eval_queries"] == 2
    evaluated = set(astro.read("query_results", where=f"run_id = '{run['run_id']}'", columns=["query_id"])["query_id"])
    assert evaluated and evaluated <= set(ASTRO_QUERIES)
    assert small_store.count("runs") == 0 and small_store.count("query_results") == 0
