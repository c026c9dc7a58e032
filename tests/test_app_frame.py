"""app.py's frame (issue 24): an unexpected error on a page, or in a fragment, is the app's own message
with an error id; the traceback is in the server log under that id. st.stop and st.rerun still work."""

from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import results
from tests import test_auth_pages
from tests.conftest import ROOT
from tests.results_seed import seed_results
from ui import results_view
from ui.safe_text import escape

app_frame = test_auth_pages.app_frame  # autouse there: app.py frames every run
SECRET = "/srv/flywheel/secret/path.lance"


class Kept(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log():
    kept, log = Kept(), logging.getLogger("flywheel")
    log.addHandler(kept)
    yield kept.records
    log.removeHandler(kept)


def broken(*args, **kwargs):
    raise OSError(f"lance could not read {SECRET}")


def error_id(at: AppTest) -> str:
    assert not at.exception, at.exception  # never Streamlit's error box
    message = next(e.value for e in at.error if "unexpected error" in e.value)
    assert SECRET not in message and "OSError" in message
    return re.search(r"error id \*\*([0-9a-f]{8})\*\*", message).group(1)


def logged(records: list[logging.LogRecord], error: str) -> logging.LogRecord:
    record = next(r for r in records if error in r.getMessage())
    assert record.exc_info and SECRET in str(record.exc_info[1])  # the traceback, for whoever runs the app
    return record


def test_an_unexpected_error_on_a_page_is_the_apps_message_with_an_id_in_the_log(store, monkeypatch, server_log):
    seed_results(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and at.metric  # Home, as usual
    monkeypatch.setattr(results, "runs_frame", broken)
    at.switch_page("pages/results.py").run()
    error = error_id(at)
    assert "page Results" in logged(server_log, error).getMessage()
    monkeypatch.undo()
    at.switch_page("pages/home.py").run()  # the session goes on
    assert not at.exception and not at.error and at.metric


def test_an_unexpected_error_in_a_fragment_is_the_apps_message_too(store, monkeypatch, server_log):
    """A fragment runs inside Streamlit's own error handler (its reruns even outside the page's frame)."""
    seed_results(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/results.py").run()
    monkeypatch.setattr(results, "drill_down", broken)
    at.session_state["results_tab"] = results_view.TABS[2]
    at.run()
    error = error_id(at)
    logged(server_log, error)
    assert at.metric  # the page around the fragment still drew


def test_the_frame_lets_st_stop_and_the_projects_own_errors_through(store, monkeypatch, server_log):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/results.py").run()  # an empty workspace: the page says so and st.stop()s
    assert not at.exception and not at.error and "No evaluated run yet" in at.info[0].value
    from core.errors import InputError

    def refused(*args, **kwargs):
        raise InputError("a run expects X, but got Y; do Z")

    monkeypatch.setattr(results, "runs_frame", refused)
    at.run()
    assert not at.exception and [e.value for e in at.error] == [escape("a run expects X, but got Y; do Z")] and not server_log
