"""Projects in the app: Home's list with counts and the form that makes one, and the Data import's
question of which project a file goes to (a new one when the current one holds another corpus)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.errors import FlywheelError, InputError
from core.settings import DEFAULT_PROJECT
from core.storage.auth import Action
from core.storage.demo import load_demo
from core.storage.projects import MAX_NAME, Summary, create_project, mixing_warning, slugify, summarize
from core.storage.store import Store
from ui import auth, common
from ui.progress import embed_corpus
from ui.safe_text import code

NEW = ""  # the import's choice "into a new project"


def _summary(slug: str) -> Summary:
    return summarize(common.project_store(slug))


def _label(slug: str, names: dict[str, str]) -> str:
    name = names.get(slug, slug)
    return slug if name == slug else f"{name} · {slug}"


def _create(name: str) -> tuple[str, Store]:
    """A new project (engineers and admins), opened through the app's one Store per project."""
    project, created = create_project(common.workspace_settings(), name, actor=common.user(),
                                      open_store=lambda inside: common.project_store(inside.project))
    return project.slug, created


def section() -> None:
    """Home: the workspace's projects with their counts; engineers and admins make a new one."""
    st.subheader("Projects")
    here = common.settings().project
    rows = []
    for project in common.projects():
        summary = _summary(project.slug)
        rows.append({"current": project.slug == here, "project": project.name, "name": project.slug, "documents": summary.documents,
                     "queries": summary.queries, "judgments": summary.judgments, "runs": summary.runs,
                     "sources": ", ".join(summary.sources)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="projects_table")
    st.caption("One project per dataset: every page works inside the one chosen in the sidebar, so a run trains and "
               "evaluates on that project's corpus only.")
    if not auth.can(Action.import_data):
        return
    with st.form("new_project", clear_on_submit=True):
        name = st.text_input("New project", max_chars=MAX_NAME, placeholder="e.g. CISI",
                             help="Its name in links and the CLI (--project) is made from this: 'CISI 2024' → cisi-2024.")
        demo = st.checkbox("Start with the demo data", help="The fictional health insurer's help centre, queries and grades.")
        submitted = st.form_submit_button("Create project", icon=":material/create_new_folder:")
    if submitted:
        try:
            slug, created = _create(name)
            if demo:
                with st.spinner("Importing the demo…"):
                    load_demo(created, actor=common.user())
                embed_corpus(created, common.embedder())  # now, so Grade and search start at once
        except FlywheelError as error:
            common.show_error(error)
        else:
            common.enter_project(slug, [f"Created project {code(slug)}; you are working in it now."])
            st.rerun()


@dataclass(frozen=True)
class Target:
    slug: str  # an existing project, or NEW
    new_name: str = ""  # the new project's name as typed
    ready: bool = True  # False while the new project's name is empty or taken: Import stays disabled


def import_target(source: str) -> Target:
    """Ask which project an import named `source` goes to. The default: the project named after it
    if there is one, else a new project when the current one holds documents of another import,
    else the current one. Importing beside another corpus is allowed, with a warning."""
    names = {p.slug: p.name for p in common.projects()}
    here = common.settings().project
    try:
        own = slugify(source)
    except InputError:
        own = NEW
    if own in names and own != DEFAULT_PROJECT:
        default = own
    elif mixing_warning(here, _summary(here), source):
        default = NEW
    else:
        default = here
    options = [NEW, *names]
    # Keyed by project and file: the browser keeps a widget's last value under its key, and this
    # answer must start from the default each time the question changes.
    choice = st.selectbox("Into project", options, index=options.index(default), key=f"import_project::{here}::{source}",
                          format_func=lambda slug: "a new project" if slug == NEW else _label(slug, names),
                          help="One project per dataset: a run trains and evaluates on everything its project holds.")
    if choice != NEW:
        warning = mixing_warning(choice, _summary(choice), source)
        if warning:
            st.warning(warning, icon=":material/warning:")
        return Target(choice)
    new_name = st.text_input("New project's name", value=source, max_chars=MAX_NAME, key=f"import_new_name::{here}::{source}")
    try:
        slug = slugify(new_name)
    except InputError as error:
        common.show_error(error)
        return Target(NEW, new_name, ready=False)
    if slug in names:
        st.error(f"A project named {code(slug)} exists already: choose it above, or give another name.", icon=":material/error:")
        return Target(NEW, new_name, ready=False)
    st.caption(f"Creates project {code(slug)} and imports into it.")
    return Target(NEW, new_name)


def open_target(target: Target) -> tuple[str, Store]:
    """The chosen project's name and Store, made now when it is a new one."""
    if target.slug != NEW:
        return target.slug, common.project_store(target.slug)
    return _create(target.new_name)
