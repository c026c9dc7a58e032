"""Flywheel: router and frame. Pages live in pages/, logic in core/."""

from __future__ import annotations

import streamlit as st

from ui.common import sidebar

st.set_page_config(page_title="Flywheel", page_icon=":material/cyclone:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/database:"),
    st.Page("pages/logs.py", title="Logs", icon=":material/receipt_long:"),
    st.Page("pages/review.py", title="Review", icon=":material/rate_review:"),
    st.Page("pages/grade.py", title="Grade", icon=":material/grading:"),
    st.Page("pages/hard_negatives.py", title="Hard negatives", icon=":material/block:"),
    st.Page("pages/agreement.py", title="Agreement", icon=":material/handshake:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/results.py", title="Results", icon=":material/insights:"),
    # FLYWHEEL-PAGES (new pages are registered here, in flywheel order)
]
page = st.navigation(pages)
sidebar()
page.run()
