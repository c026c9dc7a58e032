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


def test_a_search_hit_whose_label_cuts_the_title_shows_it_in_full_inside(small_store):
    title = "How to appeal a denied claim, " + "with every form and deadline spelled out " * 5
    small_store.add("documents", [Document(doc_id="d-long", title=title, text="appeal a denied claim: the steps")])
    small_store.ensure_fts_index()
    at = app()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.text_input[0].set_value("appeal a denied claim").run()
    hit = next(e for e in at.expander if "spelled out" in e.label)
    assert title not in hit.label.replace("\\", "") and hit.label.count("…") == 1  # cut in the label
    assert hit.text[0].value == f"{title}\nd-long"  # all of it, as text, inside
    plain = next(e for e in at.expander if "spelled out" not in e.label)
    assert not plain.text  # nothing cut, nothing repeated


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


def test_no_workspace_path_can_be_typed_and_an_unlisted_one_is_ignored(small_store, tmp_path, monkeypatch):
    monkeypatch.delenv("FLYWHEEL_WORKSPACES", raising=False)
    at = AppTest.from_function(sidebar_and_count, default_timeout=60)
    at.session_state["workspace_opened"] = str(tmp_path / "elsewhere")  # not on the admin's list
    at.run()
    assert not at.exception and at.metric[0].value == "12"
    assert [t.label for t in at.sidebar.text_input] == ["Reviewer"] and not at.sidebar.selectbox
    assert not (tmp_path / "elsewhere").exists()


def test_sidebar_switches_among_the_admins_workspaces(small_store, workspace, tmp_path, monkeypatch):
    other = tmp_path / "other"
    Store(Settings(workspace=str(other)).db_uri).add("documents", [Document(doc_id="z", text="only in the other workspace")])
    monkeypatch.setenv("FLYWHEEL_WORKSPACES", f"{workspace.workspace},{other}")
    at = AppTest.from_function(sidebar_and_count, default_timeout=60).run()
    assert at.metric[0].value == "12" and at.sidebar.selectbox[0].options == [workspace.workspace, str(other)]
    at.sidebar.selectbox[0].select(str(other)).run()
    assert not at.exception and at.metric[0].value == "1"

