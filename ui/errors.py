"""Unexpected errors in the browser: the app's own message, never Streamlit's error box.

A page (app.py's frame around page.run()) or a fragment that fails shows what went wrong in
words and an error id; the traceback goes to the server log under that id, so whoever runs the
app can find it without the browser seeing a path or a stack. The project's own errors keep
their message (they are written for the reader). Streamlit's control flow (st.stop, st.rerun,
st.switch_page: StopException and RerunException, BaseExceptions) always passes through.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.errors import FragmentHandledException
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core.errors import FlywheelError
from ui.common import show_error

LOG = get_logger("flywheel")  # Streamlit's console handler and format: the same server log as its own messages


def report(error: Exception, where: str) -> str:
    """Log the traceback under a new error id and show the app's message; returns the id."""
    error_id = uuid.uuid4().hex[:8]
    LOG.error("error id %s on %s: %s", error_id, where, type(error).__name__, exc_info=error)
    st.error(f"This page hit an unexpected error ({type(error).__name__}). The details are in the server log under error "
             f"id **{error_id}**: give that id to whoever runs Flywheel. Reloading the page may help.", icon=":material/error:")
    return error_id


@contextmanager
def caught(where: str) -> Iterator[None]:
    """Run a page or a section: a project error shows its message, anything else `report`s."""
    try:
        yield
    except (ScriptControlException, FragmentHandledException):  # st.stop/rerun/switch_page; a fragment already shown
        raise
    except FlywheelError as error:  # a page that forgot to catch one: its message is written for the reader
        show_error(error)
    except Exception as error:  # noqa: BLE001 - the point: whatever failed, the reader gets the app's message
        report(error, where)


def guarded(where: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """For a fragment's body: a fragment's rerun runs outside the page frame, so it needs its own."""
    def wrap(body: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(body)
        def run(*args, **kwargs) -> None:
            with caught(where):
                body(*args, **kwargs)
        return run
    return wrap
