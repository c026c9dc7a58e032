"""Cached resources and the shared sidebar. Pages get everything they need from here."""

from __future__ import annotations

import streamlit as st

from core.errors import FlywheelError
from core.models import Embedder
from core.settings import Settings
from core.store import Store

REVIEWER_KEY = "reviewer"


def settings() -> Settings:
    """Settings from the environment; the workspace can be switched in the sidebar."""
    base = Settings.from_env()
    return Settings.from_env(st.session_state.get("workspace") or base.workspace)


@st.cache_resource(show_spinner=False)
def _store(uri: str) -> Store:
    """Opened once per process: runs left `running` by a dead process are marked interrupted here."""
    from core.jobs import mark_interrupted

    store = Store(uri)
    mark_interrupted(store)
    return store


def store() -> Store:
    """One Store per workspace per process, shared by every session (it is thread-safe)."""
    return _store(settings().db_uri)


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


def sidebar() -> None:
    if REVIEWER_KEY not in st.session_state:
        st.session_state[REVIEWER_KEY] = st.query_params.get(REVIEWER_KEY, "")
    with st.sidebar:
        st.text_input("Reviewer", key=REVIEWER_KEY, placeholder="your name", help="Stored with every decision you make.",
                      on_change=_remember_reviewer)
        current = settings().workspace
        st.caption(f"Workspace: `{current}`")


def show_error(error: FlywheelError) -> None:
    st.error(str(error), icon=":material/error:")
