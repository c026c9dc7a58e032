"""Streamlit plumbing shared by pages: cached resources, the sidebar, common widgets."""
