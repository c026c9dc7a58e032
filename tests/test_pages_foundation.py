"""AppTest: Home, Data and the sidebar on a small workspace."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.settings import Settings
from core.storage.schemas import Document
from core.storage.store import Store
from tests.conftest import ROOT


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def test_home_shows_counts_and_next_step(small_store):
    at = app()
    at.run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Documents"] == "12"
    assert labels["Judged pairs"] == "16"
    assert any("Next:" in info.value for info in at.info)


def test_data_page_browse_and_search(small_store):
    at = app()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    at.text_input[0].set_value("appeal a denied claim").run()
    assert not at.exception
    titles = [e.label for e in at.expander]
    assert titles and "How to appeal a denied claim" in titles[0]


def test_data_page_export_prepares_a_zip(small_store):
    at = app()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception
    assert at.session_state["export"][0] == "beir"



def sidebar_and_count() -> None:
    """The shared sidebar and the document count of the workspace this session is on."""
    import streamlit as st

    from ui.common import sidebar, store

    sidebar()
    st.metric("Documents", store().count("documents"))


def test_sidebar_switches_this_sessions_workspace(small_store, tmp_path):
    other = tmp_path / "other"
    Store(Settings(workspace=str(other)).db_uri).add("documents", [Document(doc_id="z", text="only in the other workspace")])
    at = AppTest.from_function(sidebar_and_count, default_timeout=60).run()
    assert at.metric[0].value == "12"
    at.text_input(key="workspace").set_value(str(other)).run()
    assert not at.exception and at.metric[0].value == "1"


def test_a_workspace_that_cannot_open_is_named_and_the_old_one_kept(small_store, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    at = AppTest.from_function(sidebar_and_count, default_timeout=60).run()
    at.text_input(key="workspace").set_value(str(blocker / "ws")).run()
    assert not at.exception
    assert "Could not open workspace" in at.sidebar.error[0].value
    assert at.metric[0].value == "12" and at.text_input(key="workspace").value == str(small_store.uri).removesuffix("/db")
