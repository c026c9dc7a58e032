"""AppTest: Home and Data render without exceptions on a small workspace."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

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
    at.button[1].click().run()  # "Prepare download" (Import is button 0)
    assert not at.exception
    assert at.session_state["export"][0] == "beir"
