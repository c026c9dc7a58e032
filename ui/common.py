"""Cached resources and the shared sidebar. Pages get everything they need from here."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.search.models import Embedder
from core.settings import Settings
from core.storage.store import Store

REVIEWER_KEY = "reviewer"
WORKSPACE_KEY = "workspace"
OPENED_KEY = "workspace_opened"  # the last workspace that opened, to fall back to when a switch fails
WORKSPACE_ERROR = "workspace_error"


def settings() -> Settings:
    """Settings from the environment; this browser session can switch workspace in the sidebar."""
    return Settings.from_env(st.session_state.get(OPENED_KEY) or None)


@st.cache_resource(show_spinner=False)
def _store(uri: str) -> Store:
    """Opened once per process: runs left `running` by a dead process are marked interrupted here."""
    from core.training.jobs import mark_interrupted

    store = Store(uri)
    mark_interrupted(store)
    return store


def store() -> Store:
    """One Store per workspace per process, shared by every session (it is thread-safe).
    Rollbacks done when it opened (an interrupted import) are shown once per session."""
    opened = _store(settings().db_uri)
    if opened.recovered and not st.session_state.get("recovery_shown"):
        st.session_state["recovery_shown"] = True
        for message in opened.recovered:
            st.warning(message, icon="↩️")
    return opened


@st.cache_resource(show_spinner="Loading the embedding model…")
def embedder(model: str = "") -> Embedder:
    """One loaded model per process; '' is the bundled MiniLM."""
    return Embedder(model or None)


def reviewer() -> str:
    """The reviewer's name for this browser session ('' until they give one)."""
    return st.session_state.get(REVIEWER_KEY, "").strip()


def require_reviewer() -> str:
    """Stop the page with a hint when no reviewer name is set (every decision is signed)."""
    name = reviewer()
    if not name:
        st.info("Enter your name in the sidebar first: every decision is stored with the reviewer's name.")
        st.stop()
    return name


def _remember_reviewer() -> None:
    """Keep the name in the URL too, so a reload of the tab keeps it."""
    st.query_params[REVIEWER_KEY] = reviewer()


def _switch_workspace() -> None:
    """Open the typed workspace; if it cannot be opened, say why and stay on the current one."""
    uri = st.session_state[WORKSPACE_KEY].strip()
    try:
        _store(Settings.from_env(uri).db_uri)
    except Exception as error:  # noqa: BLE001 - any LanceDB/object-store failure: keep working on the old one
        st.session_state[WORKSPACE_ERROR] = f"Could not open workspace `{uri}` ({error}); still on `{settings().workspace}`."
        st.session_state[WORKSPACE_KEY] = settings().workspace
        return
    st.session_state[OPENED_KEY] = uri


def sidebar() -> None:
    if REVIEWER_KEY not in st.session_state:
        st.session_state[REVIEWER_KEY] = st.query_params.get(REVIEWER_KEY, "")
    if WORKSPACE_KEY not in st.session_state:
        st.session_state[WORKSPACE_KEY] = settings().workspace
    with st.sidebar:
        st.text_input("Reviewer", key=REVIEWER_KEY, placeholder="your name", help="Stored with every decision you make.",
                      on_change=_remember_reviewer)
        st.text_input("Workspace", key=WORKSPACE_KEY, on_change=_switch_workspace,
                      help="LanceDB URI: a local folder, s3://bucket/path, or db://… for LanceDB Cloud. "
                           "Switches this browser session only; a new folder starts an empty workspace.")
        if st.session_state.get(WORKSPACE_ERROR):
            st.error(st.session_state.pop(WORKSPACE_ERROR), icon=":material/error:")


def show_error(error: FlywheelError) -> None:
    st.error(str(error), icon=":material/error:")
