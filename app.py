"""Flywheel: router and frame. Pages live in pages/, logic in core/."""

from __future__ import annotations

import streamlit as st

from core.storage.auth import Action
from ui import auth, errors
from ui.common import sidebar

st.set_page_config(page_title="Flywheel", page_icon=":material/cyclone:", layout="wide")

user = auth.current_user()  # None until signed in (when sign-in is on)


needs: dict[str, Action] = {}  # url path -> what a role must allow to open the page (this run's, not shared)


def page(path: str, title: str, icon: str, action: Action = Action.read, **options) -> st.Page:
    """A page, listed only for roles that may use it; reached by URL, the frame below says why not."""
    visible = user is not None and user.can(action)
    listed = st.Page(path, title=title, icon=icon, visibility="visible" if visible else "hidden", **options)
    needs[listed.url_path] = action
    return listed


# The sidebar reads as the loop: bring data in, label it, train and read the results.
# The "" section (Home) has no header; new pages are registered in their section, in flywheel order.
sections = {
    "": [page("pages/home.py", "Home", ":material/home:", default=True)],
    "Data": [
        page("pages/data.py", "Data", ":material/database:"),
        page("pages/logs.py", "Logs", ":material/receipt_long:", Action.import_data),
    ],
    "Label": [
        page("pages/review.py", "Review", ":material/rate_review:", Action.review),
        page("pages/grade.py", "Grade", ":material/grading:", Action.grade),
        page("pages/hard_negatives.py", "Hard negatives", ":material/block:", Action.grade),
        page("pages/agreement.py", "Agreement", ":material/handshake:"),
    ],
    "Model": [
        page("pages/train.py", "Train", ":material/model_training:", Action.train),
        page("pages/results.py", "Results", ":material/insights:"),
    ],
    "Admin": [page("pages/users.py", "Users", ":material/group:", Action.manage_users)],
    # FLYWHEEL-PAGES (new pages are registered in their section above, in flywheel order)
}
current = st.navigation(sections)
auth.sync_cookie()
if user is None:
    auth.sign_in_form()
    st.stop()
sidebar()
with errors.caught(f"page {current.title}"):  # the app's own message, never Streamlit's error box
    auth.require(needs[current.url_path], f"The {current.title} page")  # by URL too, whatever the page checks itself
    current.run()
