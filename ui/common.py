"""Cached resources and the shared sidebar. Pages get everything they need from here."""

from __future__ import annotations

from concurrent.futures import wait

import streamlit as st

from core.errors import FlywheelError
from core.search.models import Embedder
from core.settings import DEFAULT_PROJECT, Settings
from core.storage import projects as core_projects
from core.storage.auth import User
from core.storage.store import Store
from ui import auth, background, safe_text

REVIEWER_KEY = "reviewer"
NAME_KEY = "reviewer_name"  # the typed name, kept by the session across pages (the widget's own key is not)
WORKSPACE_KEY = "workspace"
OPENED_KEY = "workspace_opened"  # the last workspace that opened, to fall back to when a switch fails
WORKSPACE_ERROR = "workspace_error"
PROJECT_KEY = "project"  # the sidebar's project selectbox; also the URL's ?project=, so a reload or a link keeps it
PROJECT_OPENED = "project_opened"  # the project this session works in (absent: the default one)
PROJECT_NOTES = "project_notes"  # what to say once on the first run inside a project just entered (created, imported into)
PROJECTS_TTL_S = 15  # how soon a project made by another server process shows in this one's list
MAX_NAME = 64


def workspace_settings() -> Settings:
    """The session's workspace (its default project): the env's, or another of the admin's list."""
    chosen = st.session_state.get(OPENED_KEY)
    return Settings.from_env(chosen if chosen in Settings.workspaces() else None)


def settings() -> Settings:
    """Settings inside the session's project: every page's store, models and runs are that project's."""
    return workspace_settings().for_project(st.session_state.get(PROJECT_OPENED, DEFAULT_PROJECT))


@st.cache_data(ttl=PROJECTS_TTL_S, show_spinner=False)
def _projects(workspace: str) -> list[core_projects.Project]:
    return core_projects.list_projects(Settings.from_env(workspace))


def projects() -> list[core_projects.Project]:
    """The session's workspace's projects, default first (listed at most every few seconds: on object
    storage a listing is a request). A workspace whose projects cannot be listed has the default only."""
    try:
        return _projects(workspace_settings().workspace)
    except FlywheelError:
        return [core_projects.Project(DEFAULT_PROJECT, DEFAULT_PROJECT)]


def project_store(slug: str) -> Store:
    """Another project's Store (to count it, or to import into it), opened once per process like store()."""
    inside = workspace_settings().for_project(slug)
    return _store(inside.db_uri, str(inside.models_dir))


def enter_project(slug: str, notes: list[str] | None = None) -> None:
    """Work in project `slug` from the next run on. What this session kept of the last one (a query on
    screen, a chosen run, a prepared download, a tab) is dropped, so nothing of one project shows in
    another; who is signed in and the workspace stay. Call st.rerun() after it, outside a callback."""
    _projects.clear()  # a project just made shows at once
    keep = {REVIEWER_KEY, NAME_KEY, WORKSPACE_KEY, OPENED_KEY, PROJECT_KEY,
            auth.USER_KEY, auth.COOKIE_KEY, auth.STAMP_KEY, auth.SIGNED_OUT_KEY, auth.TOKEN_KEY}
    for key in list(st.session_state):
        if key not in keep:
            del st.session_state[key]
    st.session_state[PROJECT_OPENED] = slug
    st.session_state[PROJECT_NOTES] = list(notes or [])


@st.cache_resource(show_spinner=False)
def _store(uri: str, models_dir: str) -> Store:
    """Opened once per process: runs left `running` by a dead process are marked interrupted here
    (and their half-written model folders removed)."""
    from pathlib import Path

    from core.training.jobs import mark_interrupted

    store = Store(uri)
    mark_interrupted(store, Path(models_dir))
    return store


def store() -> Store:
    """One Store per project per process, shared by every session (it is thread-safe).
    Rollbacks done when it opened (an interrupted import) are shown once per session."""
    opened = _store(settings().db_uri, str(settings().models_dir))
    if opened.recovered and not st.session_state.get("recovery_shown"):
        st.session_state["recovery_shown"] = True
        for message in opened.recovered:
            st.warning(message, icon="↩️")
    return opened


def embedder(model: str = "") -> Embedder:
    """The loaded model ('' is the bundled MiniLM), loaded once per process off the script thread
    (ui.background.loading_embedder); a page that needs it before it is loaded says so while it
    waits. A failed load is not kept: the next call tries again (a bad path may be fixed meanwhile)."""
    future = background.loading_embedder(model)
    if not future.done():
        with st.spinner("Loading the search model (once after a restart)…", show_time=True):
            wait([future])
    if future.exception() is not None:
        background.loading_embedder.clear(model)
    return future.result()


def typed_reviewer() -> str:
    """The name a single local user typed (sign-in off); '' until they give one."""
    name = st.session_state.get(NAME_KEY, st.session_state.get(REVIEWER_KEY, ""))  # a page run alone has no sidebar
    return str(name).strip()[:MAX_NAME]


def reviewer() -> str:
    """The reviewer's name: the signed-in user's, or the typed one when sign-in is off ('' until given)."""
    if auth.signed_in():
        user = auth.current_user()
        return user.name if user else ""
    return typed_reviewer()


def user() -> User:
    """Who acts in this session, for core functions that check the role (the app stops before this when signed out)."""
    current = auth.current_user()
    if current is None:
        st.stop()
    return current


def require_reviewer() -> str:
    """Stop the page with a hint when no reviewer name is set (every decision is signed)."""
    name = reviewer()
    if not name:
        st.info("Enter your name in the sidebar first: every decision is stored with the reviewer's name.")
        st.stop()
    return name


def _keep_name() -> None:
    st.session_state[NAME_KEY] = st.session_state[REVIEWER_KEY].strip()[:MAX_NAME]


def _switch_workspace() -> None:
    """Open the chosen workspace; if it cannot be opened, say why and stay on the current one."""
    uri = st.session_state[WORKSPACE_KEY]
    try:
        chosen = Settings.from_env(uri)
        _store(chosen.db_uri, str(chosen.models_dir))
    except Exception as error:  # noqa: BLE001 - any LanceDB/object-store failure: keep working on the old one
        st.session_state[WORKSPACE_ERROR] = (f"Could not open workspace {safe_text.escape(uri)} ({type(error).__name__}); "
                                             f"still on {safe_text.escape(settings().workspace)}.")
        st.session_state[WORKSPACE_KEY] = settings().workspace
        return
    st.session_state[OPENED_KEY] = uri
    enter_project(DEFAULT_PROJECT)  # another workspace: its own projects, starting with its default one


def _switch_project() -> None:
    """Open the chosen project; if it cannot be opened, say why and stay on the current one."""
    slug = st.session_state[PROJECT_KEY]
    try:
        project_store(slug)
    except Exception as error:  # noqa: BLE001 - any LanceDB/object-store failure: keep working on the old one
        st.session_state[WORKSPACE_ERROR] = (f"Could not open project {safe_text.escape(slug)} ({type(error).__name__}); "
                                             f"still on {safe_text.escape(settings().project)}.")
        st.session_state[PROJECT_KEY] = settings().project
        return
    enter_project(slug)


def _follow_link(listed: list[str]) -> None:
    """A new session opened from a link (or a reload) with ?project=NAME starts in that project, if it exists."""
    if PROJECT_OPENED in st.session_state:
        return
    wanted = st.query_params.get(PROJECT_KEY, DEFAULT_PROJECT)
    st.session_state[PROJECT_OPENED] = wanted if wanted in listed else DEFAULT_PROJECT
    if wanted not in listed:
        st.session_state[WORKSPACE_ERROR] = f"No project {safe_text.code(wanted, 40)} in this workspace; on {DEFAULT_PROJECT}."


def _project_picker() -> None:
    """The project this session works in: a choice when the workspace has several, else its name."""
    listed = projects()
    names = {p.slug: p.name for p in listed}
    _follow_link(list(names))
    current = settings().project
    if len(names) > 1:
        options = list(names) if current in names else [current, *names]
        if st.session_state.get(PROJECT_KEY) != current:  # entered elsewhere (Home, an import): the box follows
            st.session_state[PROJECT_KEY] = current
        st.selectbox("Project", options, key=PROJECT_KEY, on_change=_switch_project,
                     format_func=lambda slug: slug if names.get(slug, slug) == slug else f"{names[slug]} · {slug}",
                     help="One project per dataset: every page works inside the chosen one. Switches this browser session only.")
    else:
        st.caption(f"Project {safe_text.code(current, 40)}")
    if current != DEFAULT_PROJECT:  # page switches drop query parameters: put the project back, so a reload keeps it
        st.query_params[PROJECT_KEY] = current
    elif PROJECT_KEY in st.query_params:
        del st.query_params[PROJECT_KEY]


def _identity() -> None:
    """Who is working: the signed-in user, or a typed name that sticks across pages, reloads and links."""
    if auth.signed_in():
        current = auth.current_user()
        if current is not None:
            st.markdown(f"Signed in as **{safe_text.escape(current.name, 40)}** · {current.role.value}",
                        help=safe_text.see_all(current.name, limit=40))
            st.button("Sign out", on_click=auth.sign_out, icon=":material/logout:")
        return
    if NAME_KEY not in st.session_state:
        given = st.session_state.get(REVIEWER_KEY) or st.query_params.get(REVIEWER_KEY, "")
        st.session_state[NAME_KEY] = str(given).strip()[:MAX_NAME]
    st.session_state[REVIEWER_KEY] = st.session_state[NAME_KEY]
    st.text_input("Reviewer", key=REVIEWER_KEY, placeholder="your name", max_chars=MAX_NAME,
                  help="Stored with every decision you make.", on_change=_keep_name)
    name = typed_reviewer()
    if name:  # page switches drop query parameters: put the name back on every page, so a reload keeps it
        st.query_params[REVIEWER_KEY] = name
    elif REVIEWER_KEY in st.query_params:
        del st.query_params[REVIEWER_KEY]


def sidebar() -> None:
    with st.sidebar:
        _identity()
        choices = Settings.workspaces()
        current = settings().workspace
        if len(choices) > 1 or (choices and current not in choices):
            options = choices if current in choices else [current, *choices]
            st.session_state.setdefault(WORKSPACE_KEY, current)
            st.selectbox("Workspace", options, key=WORKSPACE_KEY, on_change=_switch_workspace,
                         help="The workspaces the admin listed (FLYWHEEL_WORKSPACES). Switches this browser session only.")
        else:
            st.caption(f"Workspace {safe_text.code(current, 60)}")
        _project_picker()
        if st.session_state.get(WORKSPACE_ERROR):
            st.error(st.session_state.pop(WORKSPACE_ERROR), icon=":material/error:")
    for note in st.session_state.pop(PROJECT_NOTES, []):  # once, at the top of the page the new project opens on
        st.success(note, icon=":material/folder_open:")


def show_error(error: FlywheelError) -> None:
    """A core error's message as text (it may quote data: an id, a file's line), with no server path."""
    st.error(safe_text.escape(safe_text.without_paths(str(error)), 2000), icon=":material/error:")
