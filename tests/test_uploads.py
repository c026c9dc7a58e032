"""A browser-supplied file name is a label, never a path: traversal names are refused before a
byte is written, accepted uploads land under a server-made name in a private folder, and errors
name the file as the user knows it."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from core.errors import InputError
from core.storage.files import IMPORT_KINDS, LOG_KINDS, saved_upload
from core.storage.imports import import_path
from tests.test_auth_pages import app_frame, signed_in, team  # noqa: F401 - fixtures and helper of the signed-in AppTests


class Upload(io.BytesIO):
    """What Streamlit hands a page: a file-like object whose `name` the client chose."""

    def __init__(self, name: str, payload: bytes):
        super().__init__(payload)
        self.name = name


def traversal_names(target: Path) -> list[str]:
    up = "../" * 12
    return [f"{up}{str(target)[1:]}", str(target), f"ok/{up}{target.name}", "..\\..\\evil.jsonl", "..", "a/b.jsonl",
            "", "bad\nname.jsonl"]


@pytest.mark.parametrize("kinds", [IMPORT_KINDS, LOG_KINDS])
def test_a_traversal_name_is_refused_and_nothing_is_written(tmp_path, kinds):
    target = tmp_path / "x" / "TRAVERSAL.jsonl"
    target.parent.mkdir()
    for name in traversal_names(target):
        with pytest.raises(InputError, match="plain file name"):
            with saved_upload(Upload(name, b'{"_id": "d1", "text": "t"}\n'), kinds):
                pytest.fail("the body must not run for a refused name")
        assert not target.exists()


def test_an_upload_lands_under_a_server_made_name_in_a_private_folder_removed_afterwards(tmp_path):
    with saved_upload(Upload("My Corpus.JSONL", b"payload"), IMPORT_KINDS) as (path, label):
        assert label == "My Corpus.JSONL" and path.name == "upload.jsonl" and path.read_bytes() == b"payload"
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        folder = path.parent
    assert not folder.exists()


def test_a_wrong_kind_is_refused(tmp_path):
    with pytest.raises(InputError, match="expects a .jsonl or .csv file, but got 'notes.txt'"):
        with saved_upload(Upload("notes.txt", b"x"), LOG_KINDS):
            pass


def test_an_import_error_names_the_uploaded_file_not_the_server_copy(store):
    bad = b"id,title,text\nd1,One,first\nd2,Two\n"
    with pytest.raises(InputError) as caught:
        with saved_upload(Upload("clients.csv", bad), IMPORT_KINDS) as (path, label):
            import_path(store, path, name=Path(label).stem)
    assert str(caught.value).startswith("clients.csv") and "upload" not in str(caught.value)
    assert store.count("documents") == 0


def uploaders(at) -> list:
    return [e for e in at.get("file_uploader")]


def test_an_annotator_is_shown_no_uploader_at_all(team):  # noqa: F811
    at = signed_in("ann")
    at.switch_page("pages/data.py").run()
    assert not at.exception and uploaders(at) == []
    assert any("Importing interaction logs needs the engineer role" in i.value for i in at.info)
    at = signed_in("eve")
    at.switch_page("pages/data.py").run()
    assert not at.exception and len(uploaders(at)) == 2  # documents and interaction logs


@pytest.mark.browser
def test_in_a_browser_an_engineer_uploading_a_traversal_name_is_refused_and_nothing_lands(browser, small_store, workspace, tmp_path):
    from core.storage.auth import Users
    from tests.conftest import start_app, stop_app

    Users(workspace.users_file).add("eve", "engineer", "a long password")
    target = tmp_path / "x" / "TRAVERSAL.jsonl"
    target.parent.mkdir()
    process, url = start_app(workspace.workspace)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/data")
        page.get_by_role("textbox", name="Name").wait_for(timeout=60_000)
        page.get_by_role("textbox", name="Name").fill("eve")
        page.get_by_role("textbox", name="Password").fill("a long password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as eve").wait_for(timeout=60_000)
        for tab, button in (("Import", "Import"), ("Interaction logs", "Import log")):
            panel = page.get_by_role("tabpanel", name=tab)
            for _ in range(20):  # a click during the sign-in's rerun may be lost
                page.get_by_role("tab", name=tab).click()
                if panel.get_by_text("Drag and drop").is_visible():
                    break
                page.wait_for_timeout(500)
            panel.locator("input[type=file]").set_input_files(
                files=[{"name": "../" * 12 + str(target)[1:], "mimeType": "application/octet-stream",
                        "buffer": b'{"_id": "d1", "title": "t", "text": "t"}\n'}])
            panel.get_by_role("button", name=button, exact=True).click()
            panel.get_by_text("an upload expects a plain file name").wait_for(timeout=30_000)
            assert not target.exists()
        assert small_store.count("documents") == 12 and not list(target.parent.iterdir())
    finally:
        stop_app(process)
