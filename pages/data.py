"""Data: import documents and qrels or interaction logs, browse and search the corpus, download exports."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from core.errors import FlywheelError
from core.labeling.export import ExportFormat, export
from core.search.retrieval import SearchMode, search
from core.storage.archive import zip_folder
from core.storage.auth import Action
from core.storage.files import IMPORT_KINDS, saved_upload
from core.storage.imports import import_path
from ui import auth, projects_view, run_search
from ui.common import embedder, enter_project, settings, show_error, store, user
from ui.log_upload import log_upload
from ui.progress import embed_corpus, progress_bar
from ui.safe_text import code, escape, see_all, show_text

EXPORT_HELP = {
    ExportFormat.beir: "BEIR folder: corpus, queries, graded qrels per split, TREC qrels, hard negatives",
    ExportFormat.triplets: "training triplets JSONL (anchor, positive, negative)",
    ExportFormat.hf: "Hugging Face `datasets` folder of graded pairs (load_from_disk)",
    ExportFormat.cohere: "Cohere rerank JSONL (query, relevant_passages, hard_negatives)",
    ExportFormat.fewshot: "few-shot sets as JSON (query, document title, who approved it), to paste into your prompts",
}

st.title("Data")
db = store()
search_tab, import_tab, logs_tab, export_tab = st.tabs(["Browse & search", "Import", "Interaction logs", "Export"],
                                                     key="data_tab", on_change="rerun")  # stays on its tab across reruns (an upload)

with search_tab:
    run = run_search.run_choice(db)
    left, middle, right = st.columns([4, 2, 1])
    text = left.text_input("Search documents", placeholder="e.g. silver ppo deductible 2026")
    mode = middle.segmented_control("Mode", [m.value for m in SearchMode], default=SearchMode.hybrid.value, disabled=run is not None,
                                    help="A run's pipeline has its own mode" if run is not None else None)
    k = right.number_input("Top k", 1, 100, 10)
    # One slot for progress and results: its first write (the bar) replaces the previous results at once.
    with st.empty().container():
        hits = None
        if text.strip() and run is not None:
            try:
                hits = run_search.hits(db, run, text, int(k))
            except FlywheelError as error:  # a run folder moved or a model gone: say so, the other tabs still work
                show_error(error)
        elif text.strip():
            model = embedder()
            if mode != SearchMode.fts.value:
                embed_corpus(db, model)
            hits = search(db, model, text, int(k), mode or SearchMode.hybrid.value)
        if hits is not None:
            if hits.empty:
                st.info("No documents match. Try another mode or other words.")
            for row in hits.itertuples():
                with st.expander(f"**{row.rank}. {escape(row.title or row.doc_id)}** · {code(row.doc_id)} · score {row.score:.3f}"):
                    if see_all(row.title, row.doc_id):
                        st.text(f"{row.title}\n{row.doc_id}")  # the label cut them: here in full
                    show_text(row.text)
        elif not text.strip():
            docs = db.read("documents", columns=["doc_id", "title", "text", "source"])
            st.caption(f"{len(docs):,} documents")
            st.dataframe(docs, hide_index=True, width="stretch", height=420)

with import_tab:
    if not auth.can(Action.import_data):
        auth.explain(Action.import_data, "Importing data")
    else:
        st.write("A BEIR **.zip** (corpus.jsonl, queries.jsonl, qrels/{train,dev,test}.tsv), or documents as **.jsonl** "
                 "(`_id`, `title`, `text`) or **.csv** (`id`, `title`, `text`). An import is all or nothing.")
        upload = st.file_uploader("File", type=[k.lstrip(".") for k in IMPORT_KINDS])
        name_col, prefix_col = st.columns(2)
        name = name_col.text_input("Import name", placeholder="default: the file name")
        prefix = prefix_col.text_input("Id prefix", placeholder="optional, when ids clash with another import")
        target = projects_view.import_target(name or Path(upload.name).stem) if upload is not None else None
        if st.button("Import", type="primary", disabled=target is None or not target.ready):
            try:
                with saved_upload(upload, IMPORT_KINDS) as (path, label), progress_bar("Checking and importing") as update:
                    project, into = projects_view.open_target(target)  # a new project is made once the file name passed
                    result = import_path(into, path, name=name or Path(label).stem, actor=user(), id_prefix=prefix, progress=update)
            except FlywheelError as error:
                show_error(error)
            else:
                # Embedded now, with its bar right under the button and before the result (which reads as "done"),
                # rather than on the first search or Grade visit.
                embed_corpus(into, embedder())
                done = f"Imported {result.documents:,} documents, {result.queries:,} queries, {result.judgments:,} judgments"
                if project != settings().project:  # every page now works in the project the data went to
                    enter_project(project, [f"{done} into project {code(project)}; you are working in it now.", *result.notes])
                    st.rerun()
                st.success(f"{done}.")
                for note in result.notes:
                    st.info(note)
                st.json(asdict(result))

with logs_tab:
    if not auth.can(Action.import_data):
        auth.explain(Action.import_data, "Importing interaction logs")
    else:
        log_upload("data_logs")
        st.caption("What the logs say (traffic, feedback, uncited queries) is on the Logs page.")


with export_tab:
    if not auth.can(Action.export_data):
        auth.explain(Action.export_data, "Exporting data")
    else:
        fmt = st.radio("Format", list(ExportFormat), format_func=lambda f: f"{f.value} — {EXPORT_HELP[f]}")
        if st.button("Prepare download"):
            with tempfile.TemporaryDirectory() as scratch:
                try:
                    counts = export(db, fmt, Path(scratch), actor=user(), embedder=embedder() if fmt is ExportFormat.triplets else None,
                                    relevant_grade=settings().relevant_grade)
                except FlywheelError as error:
                    show_error(error)
                else:
                    st.session_state["export"] = (fmt.value, zip_folder(Path(scratch)), counts)
        prepared = st.session_state.get("export")
        if prepared:
            fmt_name, payload, counts = prepared
            st.write(counts)
            st.download_button(f"Download {fmt_name}.zip", payload, file_name=f"flywheel-{fmt_name}.zip", mime="application/zip")
