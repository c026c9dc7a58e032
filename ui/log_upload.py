"""The interaction-log upload, shared by the Data and Logs pages."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import streamlit as st

from core.errors import FlywheelError
from core.labeling import logs
from core.storage.files import LOG_KINDS, saved_upload
from ui.common import embedder, show_error, store, user
from ui.progress import progress_bar

FORMAT = ("One interaction per line (**.jsonl**, or **.csv** with the same columns): `id`, `timestamp`, `query`, "
          "`retrieved` (list of `{doc_id, rank, score}`), optional `cited`, `clicked`, `feedback` (`thumbs`, `comment`), "
          "`session`, `user`, `app_version`. All or nothing; re-importing a file adds nothing. "
          "`flywheel_log.log_interaction` writes this format from your RAG app.")


def log_upload(key: str) -> None:
    """Uploader and Import button; imports all or nothing and shows what came in. Callers show it
    only to roles that may import: nothing of an upload is written before that check."""
    st.write(FORMAT)
    upload = st.file_uploader("Interaction log", type=[k.lstrip(".") for k in LOG_KINDS], key=f"{key}_file")
    if st.button("Import log", type="primary", disabled=upload is None, key=f"{key}_import"):
        try:
            with saved_upload(upload, LOG_KINDS) as (path, label):
                result = logs.import_logs(store(), path, embedder=embedder(), actor=user(), name=Path(label).stem,
                                          progress=progress_bar("Embedding logged queries to merge near-duplicates"))
        except FlywheelError as error:
            show_error(error)
        else:
            st.success(f"Imported {result.interactions:,} interactions ({result.already_imported:,} already there), "
                       f"{result.new_queries:,} new queries, {result.unknown_documents:,} documents not in the corpus.")
            st.json(asdict(result), expanded=False)
