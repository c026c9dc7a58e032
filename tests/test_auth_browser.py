"""In Chromium: a password sign-in survives a reload (the signed session cookie), a sign-out does not;
the Users page is in the menu of admins only."""

from __future__ import annotations

import pytest

from core.storage import sessions
from core.storage.auth import Users
from tests.browser_steps import sign_in
from tests.conftest import PASSWORD, start_app, stop_app


def sign_in_form(page) -> None:
    page.get_by_role("textbox", name="Name").wait_for(timeout=60_000)


def signed_in_as(page, name: str) -> None:
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=60_000)


@pytest.mark.browser
def test_a_sign_in_survives_a_reload_and_a_sign_out_does_not(browser, small_store, workspace):
    Users(workspace.users_file).add("ann", "annotator", PASSWORD)
    Users(workspace.users_file).add("ada", "admin", PASSWORD)
    process, url = start_app(workspace.workspace)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url)
        sign_in(page, "ann")
        assert page.get_by_role("link", name="Grade").count() == 1 and page.get_by_role("link", name="Users").count() == 0
        page.wait_for_function(f"document.cookie.includes('{sessions.COOKIE}=')", timeout=30_000)
        cookie = next(c for c in context.cookies() if c["name"] == sessions.COOKIE)
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/" and cookie["expires"] > 0
        assert sessions.check(Users(workspace.users_file), cookie["value"]).name == "ann"

        page.reload()
        signed_in_as(page, "ann")
        assert page.get_by_role("textbox", name="Password").count() == 0
        page.goto(url + "/agreement")  # a new page load on another page keeps it too
        signed_in_as(page, "ann")

        page.get_by_role("button", name="Sign out").click()
        sign_in_form(page)
        page.wait_for_function(f"!document.cookie.includes('{sessions.COOKIE}=')", timeout=30_000)
        page.reload()
        sign_in_form(page)
        page.wait_for_timeout(1500)  # a cookie left behind would sign in again on this run
        assert page.get_by_text("Signed in as").count() == 0

        context.add_cookies([{**cookie, "value": cookie["value"][:-2] + "00"}])  # a forged signature
        page.reload()
        sign_in_form(page)
        page.wait_for_timeout(1500)
        assert page.get_by_text("Signed in as").count() == 0

        sign_in(page, "ada")  # an admin has the Users page in the menu
        page.get_by_role("link", name="Users").click()
        page.get_by_role("tab", name="Change role").wait_for(timeout=60_000)
    finally:
        stop_app(process)


@pytest.mark.browser
def test_a_cookie_copied_before_sign_out_is_refused_after_it_by_every_server(browser, small_store, workspace):
    """Sign out ends the session server-side: its other tabs at their next run, and a copy of its cookie
    replayed in a fresh browser against another server process on the same workspace."""
    Users(workspace.users_file).add("ann", "annotator", PASSWORD)
    process, url = start_app(workspace.workspace)
    other, other_url = start_app(workspace.workspace)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url)
        sign_in(page, "ann")
        page.wait_for_function(f"document.cookie.includes('{sessions.COOKIE}=')", timeout=30_000)
        copied = next(c for c in context.cookies() if c["name"] == sessions.COOKIE)
        tab = context.new_page()  # a second tab of the same browser session, in through the cookie
        tab.goto(url + "/agreement")
        signed_in_as(tab, "ann")

        page.get_by_role("button", name="Sign out").click()
        sign_in_form(page)
        tab.get_by_role("link", name="Grade").click()  # its next run: the session has ended there too
        sign_in_form(tab)
        assert tab.get_by_text("Signed in as").count() == 0

        for target in (url, other_url):
            fresh = browser.new_context(viewport={"width": 1400, "height": 900})
            fresh.add_cookies([copied])  # cookies ignore the port: the other server gets it too
            replay = fresh.new_page()
            replay.goto(target)
            sign_in_form(replay)
            replay.wait_for_timeout(1500)  # the copied cookie would sign in on this run
            assert replay.get_by_text("Signed in as").count() == 0
            fresh.close()

        sign_in(page, "ann")  # a fresh sign-in works
    finally:
        stop_app(process)
        stop_app(other)
