"""Flywheel core: the product's logic, importable and testable without Streamlit."""
