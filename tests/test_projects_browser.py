"""Projects in Chromium: make one on Home, import a tiny BEIR .zip into it on the Data page, switch
back and forth, and each project's Data page shows only its own documents."""

from __future__ import annotations

import pytest

from tests.browser_steps import choose, settled
from tests.conftest import start_app, stop_app
from tests.test_projects import astro_zip

pytestmark = pytest.mark.browser


def open_tab(page, name: str):
    """Click a Data tab until its panel shows (a click during a rerun can be lost); returns the panel."""
    panel = page.get_by_role("tabpanel", name=name)
    for _ in range(20):
        page.get_by_role("tab", name=name).click()
        settled(page)
        if panel.is_visible():
            return panel
    raise AssertionError(f"tab {name!r} did not open")


def choose_project(page, option: str) -> None:
    choose(page, page.get_by_test_id("stSidebarUserContent").get_by_role("combobox", name="Project", exact=True), option)


def chosen(page, label: str) -> str:
    """What a selectbox shows: the value of its combobox input."""
    return page.get_by_role("combobox", name=label).input_value()


def browse_shows(page, documents: int) -> None:
    """The Browse tab comes to show `documents` documents (its caption is drawn at the top of a run, so a
    run that imports shows the count from before until the next one: wait for it, never read it once)."""
    open_tab(page, "Browse & search").get_by_text(f"{documents} documents", exact=True).wait_for(timeout=60_000)


def upload(page, archive) -> None:
    panel = open_tab(page, "Import")
    panel.locator("input[type=file]").set_input_files(str(archive))
    page.get_by_role("combobox", name="Into project").wait_for(timeout=60_000)
    settled(page)


def test_in_a_browser_a_new_project_takes_an_import_and_each_shows_only_its_own_documents(browser, small_store, workspace, tmp_path):
    archive = astro_zip(tmp_path / "files")
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?reviewer=eve")
        settled(page)
        page.get_by_role("textbox", name="New project").fill("Astronomy notes")
        page.get_by_role("button", name="Create project").click()
        page.get_by_text("Created project").wait_for(timeout=60_000)
        settled(page)

        page.get_by_role("link", name="Data", exact=True).click()
        settled(page)
        upload(page, archive)  # the new project is empty: the import goes there by default, without a warning
        assert "astronomy-notes" in chosen(page, "Into project")
        assert page.get_by_text("mixes the corpora").count() == 0
        page.get_by_role("tabpanel", name="Import").get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Imported 6 documents, 5 queries, 5 judgments").wait_for(timeout=300_000)
        browse_shows(page, 6)

        choose_project(page, "default")
        browse_shows(page, 12)
        upload(page, archive)  # the default project holds 'small': a new project named after the file is offered
        assert "a new project" in chosen(page, "Into project")
        assert page.get_by_role("textbox", name="New project's name").input_value() == "astro"

        choose_project(page, "Astronomy notes · astronomy-notes")
        browse_shows(page, 6)
        assert "project=astronomy-notes" in page.url
        assert small_store.count("documents") == 12
    finally:
        stop_app(process)
