"""Sign-in and roles in the app.

One way at a time: Streamlit's st.login (OIDC) when the secrets hold an [auth] section, else
the users file (`flywheel users add`), else off: a single local user who types a reviewer
name (the app then only listens on loopback, see `flywheel app`). The signed-in name is the
reviewer name everywhere; the role is read from the users file on every run, so a role change
or a removal applies at once.

A password sign-in also sets a signed session cookie (core/storage/sessions.py), so a reload or
a new tab stays signed in for 12 h. Streamlit 1.67 reads cookies (st.context.cookies, those of
the page's request) but has no API to set one, so the page sets and clears it with a line of
script (st.html with JavaScript allowed; the token holds only [A-Za-z0-9._-]). Sign out ends the
browser session on the server (sessions.revoke): its other tabs at their next run, and a copy of its
cookie on every server process; the user's sessions on other devices go on.
"""

from __future__ import annotations

import re

import streamlit as st

from core.settings import Settings
from core.storage import sessions
from core.storage.auth import Action, Role, User, Users, minimum_role
from core.storage.schemas import target
from core.storage.throttle import SignInThrottle, message
from ui.safe_text import escape

USER_KEY = "signed_in_user"
COOKIE_KEY = "session_cookie_pending"  # a token to set, or "" to clear the cookie, on the next run
STAMP_KEY = "signed_in_password"  # sessions.password_stamp at sign-in: a password reset ends the session
SIGNED_OUT_KEY = "signed_out"  # this session signed out: its request's cookie no longer counts
TOKEN_KEY = "session_token"  # the token this session signed in with (its cookie): sign-out revokes it
_TOKEN = re.compile(r"^[A-Za-z0-9._-]*$")
LOCAL_NAME = "local"  # the actor of the single local user who has not typed a name


def users() -> Users:
    """The users file of the workspace the server started on (a session switching workspace keeps it)."""
    return Users(Settings.from_env().users_file)


def oidc_enabled() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: Streamlit raises its own not-found error
        return False


def mode() -> str:
    """'oidc', 'password' or 'off'."""
    if oidc_enabled():
        return "oidc"
    return "password" if users().enabled else "off"


def current_user() -> User | None:
    """The user of this browser session; None while sign-in is on and nobody has signed in."""
    how = mode()
    if how == "off":
        from ui.common import typed_reviewer

        return User(typed_reviewer() or LOCAL_NAME, Role.admin)
    if how == "oidc":
        if not st.user.is_logged_in:
            return None
        name = str(st.user.get("email") or st.user.get("name") or "")
        known = users().get(name)
        user = User(name, known.role if known else Role.annotator)
        if st.session_state.get(USER_KEY) != user:
            st.session_state[USER_KEY] = user
            _log(name, "sign_in", how="oidc", role=user.role.value)
        return user
    signed = st.session_state.get(USER_KEY)
    if signed is None and not st.session_state.get(SIGNED_OUT_KEY):
        token = st.context.cookies.get(sessions.COOKIE)
        signed = sessions.check(users(), token)  # a reload, or a new tab
        if signed is not None:
            st.session_state[USER_KEY] = signed
            st.session_state[TOKEN_KEY] = token
            st.session_state[STAMP_KEY] = sessions.password_stamp(users(), signed.name)
    fresh = users().get(signed.name) if signed else None
    if signed and (fresh is None or st.session_state.get(STAMP_KEY) != sessions.password_stamp(users(), signed.name)
                   or sessions.revoked(users(), st.session_state.get(TOKEN_KEY))):
        st.session_state.pop(USER_KEY, None)  # removed, password reset, or signed out in another tab: out at once
        return None
    return fresh


def signed_in() -> bool:
    return mode() != "off"


def _log(name: str, action: str, **detail) -> None:
    from ui.common import store

    store().log(name[:64], action, target("user", name[:64]), **detail)


def _check_password() -> None:
    name = st.session_state.get("signin_name", "").strip()
    password = st.session_state.get("signin_password", "")
    st.session_state["signin_password"] = ""
    throttle = SignInThrottle(users())
    wait = throttle.wait(name)
    if wait:  # not even checked: a guess now tells nothing
        _log(name, "sign_in_refused", how="password", wait_s=wait)
        st.session_state["signin_error"] = escape(message(name, wait), None)
        return
    user = users().verify(name, password)
    if user is None:
        wait = throttle.failed(name)
        _log(name, "sign_in_failed", how="password")
        st.session_state["signin_error"] = escape(message(name, wait), None) if wait else "Wrong name or password."
        return
    throttle.succeeded(name)
    st.session_state[USER_KEY] = user
    st.session_state[STAMP_KEY] = sessions.password_stamp(users(), user.name)
    st.session_state.pop(SIGNED_OUT_KEY, None)
    st.session_state[TOKEN_KEY] = st.session_state[COOKIE_KEY] = sessions.issue(users(), user.name)
    _log(user.name, "sign_in", how="password", role=user.role.value)


def sign_in_form() -> None:
    """The only thing a visitor sees until they sign in."""
    st.title(":material/cyclone: Flywheel")
    if mode() == "oidc":
        st.button("Sign in", type="primary", on_click=st.login)
        return
    with st.form("signin", width=420):  # a sign-in box, not a page-wide band; the browser's password manager fills it
        st.text_input("Name", key="signin_name", max_chars=64, autocomplete="username")
        st.text_input("Password", key="signin_password", type="password", autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_check_password)
    if st.session_state.get("signin_error"):
        st.error(st.session_state.pop("signin_error"), icon=":material/lock:")


def sign_out() -> None:
    """End this browser session: on the server first (a copied cookie is refused from now on), then here."""
    if st.session_state.get(TOKEN_KEY):
        sessions.revoke(users(), st.session_state[TOKEN_KEY])
    st.session_state.pop(TOKEN_KEY, None)
    user = st.session_state.pop(USER_KEY, None)
    if user:
        _log(user.name, "sign_out")
    if mode() == "oidc":
        st.logout()
        return
    st.session_state[SIGNED_OUT_KEY] = True
    st.session_state[COOKIE_KEY] = ""


def sync_cookie() -> None:
    """Set or clear the session cookie in the browser when a sign-in or sign-out asked for it."""
    token = st.session_state.pop(COOKIE_KEY, None)
    if token is None or not _TOKEN.match(token):
        return
    age = sessions.LIFETIME_S if token else 0
    st.html(f"<script>document.cookie = '{sessions.COOKIE}={token}; path=/; max-age={age}; SameSite=Strict'"
            "+ (location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


def can(action: Action) -> bool:
    user = current_user()
    return user is not None and user.can(action)


def require(action: Action, what: str) -> User:
    """Stop the page with the reason when the role cannot do `action` (reached by URL, say)."""
    user = current_user()
    if user is None or not user.can(action):
        role = user.role.value if user else "signed out"
        st.warning(f"{what} needs the {minimum_role(action).value} role; you are signed in as "
                   f"{escape(user.name if user else '–')} ({role}). Ask an admin to change your role.", icon=":material/lock:")
        st.stop()
    return user


def explain(action: Action, what: str) -> None:
    """Say in place of a hidden control why it is not there."""
    user = current_user()
    st.info(f"{what} needs the {minimum_role(action).value} role; you are {user.role.value if user else 'signed out'}.",
            icon=":material/lock:")
