"""Users (admin): who may sign in and with which role; the same changes and events as `flywheel users`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import FlywheelError
from core.storage import accounts
from core.storage.auth import ROLE_HELP, Action, Role
from ui import auth
from ui.common import show_error, store, user
from ui.safe_text import escape

FLASH = "users_flash"
ROLES = [role.value for role in Role]

st.title("Users")
admin = auth.require(Action.manage_users, "The Users page")
users = auth.users()
db = store()


def change(what: str, action, *args) -> bool:
    """Run one accounts change as the signed-in admin; say what happened or why not."""
    try:
        action(db, users, user(), *args)
    except FlywheelError as error:
        show_error(error)
        return False
    st.session_state[FLASH] = what
    return True


everyone = users.list()
if not everyone:
    st.info("Sign-in is off: nobody is in the users file yet. The first user you add must be an admin; from then on the "
            "app asks everyone to sign in.")
else:
    st.dataframe(pd.DataFrame([{"name": u.name, "role": u.role.value} for u in everyone]), hide_index=True,
                 width="stretch", column_config={"name": st.column_config.TextColumn("Name"), "role": "Role"})
if st.session_state.get(FLASH):
    st.success(escape(st.session_state.pop(FLASH), 300), icon=":material/check:")

add, role, password, remove = st.tabs(["Add", "Change role", "Reset password", "Remove"])
with add:
    with st.form("users_add", clear_on_submit=True):
        name = st.text_input("Name", max_chars=64, help="Letters, digits and . _ @ + - (an e-mail address for OIDC).")
        new_role = st.selectbox("Role", ROLES if everyone else [Role.admin.value], help=ROLE_HELP)
        oidc = st.checkbox("Signs in through the OIDC provider (no password)")
        initial = st.text_input("Initial password", type="password", help="At least 8 characters; tell it to the user.")
        if st.form_submit_button("Add user", type="primary") and change(
                f"Added {name.strip()} ({new_role}).", accounts.add_user, name.strip(), new_role, None if oidc else initial):
            st.rerun()

names = [u.name for u in everyone]
if not names:
    st.stop()
with role:
    with st.form("users_role"):
        who = st.selectbox("User", names, key="users_role_name")
        to = st.selectbox("New role", ROLES, key="users_role_value", help=ROLE_HELP)
        if st.form_submit_button("Change role") and change(f"{who} is now {to}.", accounts.set_role, who, to):
            st.rerun()
with password:
    with st.form("users_password", clear_on_submit=True):
        who = st.selectbox("User", names, key="users_password_name")
        new = st.text_input("New password", type="password", help="At least 8 characters; their open sessions end.")
        if st.form_submit_button("Reset password") and change(f"New password set for {who}.", accounts.set_password, who, new):
            st.rerun()
with remove:
    with st.form("users_remove"):
        who = st.selectbox("User", names, key="users_remove_name")
        sure = st.checkbox("Yes, remove this user (their grades and decisions stay, under their name)")
        if st.form_submit_button("Remove user"):
            if not sure:
                st.warning("Tick the box to confirm.")
            elif change(f"Removed {who}.", accounts.remove_user, who):
                st.rerun()
