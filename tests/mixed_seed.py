"""A workspace with every origin of query at once, as testers build it in the app: the demo, a
test-only BEIR import (its queries come with no split and no source document) and an approved
synthetic query. Mixed data broke the split (issue 24); pages and commands must take it."""

from __future__ import annotations

import json
from pathlib import Path

from core.labeling import review
from core.labeling.generation import OfflineGenerator, generate
from core.storage.demo import load_demo
from core.storage.imports import import_path
from core.storage.store import Store

BEIR_DOCS = [("b1", "Tiny import: pharmacy hours", "The mail-order pharmacy answers calls from 8 am to 8 pm."),
             ("b2", "Tiny import: vision exam", "One routine eye exam a year is covered in network."),
             ("b3", "Tiny import: dental cleaning", "Two cleanings a year are covered at no cost.")]
BEIR_QUERIES = [("bq1", "when is the pharmacy open", "b1"), ("bq2", "is an eye exam covered", "b2"),
                ("bq3", "how many dental cleanings", "b3")]


def write_test_only_beir(folder: Path) -> Path:
    """A BEIR folder with qrels/test.tsv only: its queries get no split on import."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "title": t, "text": x}) + "\n" for d, t, x in BEIR_DOCS))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t, _ in BEIR_QUERIES))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, _, d in BEIR_QUERIES))
    return folder


def build_mixed(store: Store, scratch: Path) -> str:
    """Demo + test-only BEIR import + one approved synthetic query; returns that query's id."""
    load_demo(store)
    import_path(store, write_test_only_beir(scratch / "tiny-beir"), name="tiny")
    docs = store.read("documents", where="source = 'demo'").sort_values("doc_id").head(1)
    written = generate(store, OfflineGenerator(0), docs, per_doc=1).written
    review.approve(store, "ann", written[0])
    return written[0]
