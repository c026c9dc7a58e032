"""Corpus embedding on a Ray cluster: Ray Data spreads the documents over encoder actors, and the
vectors go back into the same `embeddings_<key>` table the in-process path fills.

The driver reads the documents through the Store and keeps only those new or edited for this
model (the text hash, as `ensure_corpus_embeddings` does), so a second run embeds nothing. The
encoders are actors (one model load per worker, not per batch); the driver writes their output
with `merge_insert` on `doc_id`, a few thousand rows per commit: a run that stops half-way keeps
what it wrote and the next run embeds only the rest, and no document ever gets two rows. One
writer, not one per worker: concurrent commits to one Lance table would mostly retry each other.
The precision ("auto" resolved here, on the driver, for the workers' device) is decided once and
handed to every encoder, so one table never mixes float32 and bf16 vectors.
Ray is imported here only, and only when called, so the app never needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from core.errors import InputError
from core.search.models import ADAPTER_FILE, Embedder, embeddings_key, resolve_model
from core.search.precision import inference_precision
from core.search.retrieval import text_hash
from core.storage.schemas import document_text
from core.storage.store import Store

BATCH_SIZE = 64  # texts per model batch (Embedder.encode_documents' default)
BLOCK_ROWS = 1024  # at most this many documents per Ray block and actor call: a few model batches
WRITE_ROWS = 4096  # rows per merge_insert commit: few fragments, little lost if a run stops


def connect(address: str | None = None):
    """`ray.init` on `address` ('' or None: a local cluster on this machine, or $RAY_ADDRESS);
    a session already connected (a test, a notebook) is used as it is."""
    try:
        import ray
    except ImportError as error:
        raise InputError("--ray expects the ray extra, but ray is not installed; pip install 'flywheel[ray]'.") from error
    if not ray.is_initialized():
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False)
    return ray


def document_model(name_or_path: str | None) -> str:
    """The model that embeds documents: an adapter folder's base model (an adapter changes
    queries only), otherwise the model itself; resolved without loading it."""
    path = resolve_model(name_or_path)
    spec_file = Path(path) / ADAPTER_FILE
    if spec_file.exists():
        import json

        return resolve_model(json.loads(spec_file.read_text())["base_model"])
    return path


class DocumentEncoder:
    """A Ray Data actor: loads the model once, then embeds each batch of documents it is handed."""

    def __init__(self, model: str, device: str = "cpu", precision: str = "fp32"):
        self.embedder = Embedder(model, device=device, precision=precision)

    def __call__(self, batch: pa.Table) -> pa.Table:
        vectors = self.embedder.encode_documents(batch.column("text").to_pylist(), batch_size=BATCH_SIZE)
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
        return pa.table({
            "doc_id": batch.column("doc_id"), "text_hash": batch.column("text_hash"),
            "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]),
        })


def pending_documents(store: Store, key: str) -> tuple[pa.Table, set[str]]:
    """Documents with no embedding for this model, or an outdated one (their text changed),
    longest first (so each batch pads little); and every live doc id."""
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    known = store.read_embeddings(key, columns=("doc_id", "text_hash"))
    known_hash = dict(zip(known["doc_id"], known["text_hash"]))
    texts = [document_text(t, x) for t, x in zip(docs["title"], docs["text"])]
    hashes = [text_hash(t) for t in texts]
    todo = [i for i, (doc_id, h) in enumerate(zip(docs["doc_id"], hashes)) if known_hash.get(doc_id) != h]
    todo.sort(key=lambda i: -len(texts[i]))
    table = pa.table({
        "doc_id": pa.array([docs["doc_id"].iloc[i] for i in todo], pa.string()),
        "text_hash": pa.array([hashes[i] for i in todo], pa.string()),
        "text": pa.array([texts[i] for i in todo], pa.string()),
    })
    return table, set(docs["doc_id"])


def embed_with_ray(store: Store, name_or_path: str | None = None, address: str | None = None, workers: int = 0,
                   gpus_per_worker: float = 0.0, precision: str | None = None) -> dict[str, Any]:
    """Embed the workspace's new or edited documents on Ray; returns counts and the table's key.

    `workers` encoder actors (0: one per CPU of the cluster, or one per GPU with
    `gpus_per_worker`); each holds the model once. `precision` as Embedder's, "auto" judged by
    this machine's hardware: name "bf16" or "fp32" for a cluster of another kind.
    """
    model = document_model(name_or_path)
    device = "cuda" if gpus_per_worker else "cpu"
    precision = inference_precision(precision, device)
    key = embeddings_key(model, precision)
    table = store.embeddings_name(key)
    todo, live = pending_documents(store, key)
    if todo.num_rows:  # nothing new: no cluster needed
        connect(address)
        import ray.data  # binds `ray` too

        resources = ray.cluster_resources()
        if workers <= 0:
            workers = int(resources.get("GPU", 0) // gpus_per_worker) if gpus_per_worker else int(resources.get("CPU", 1))
        if gpus_per_worker and resources.get("GPU", 0) < gpus_per_worker:
            raise InputError(f"embed --gpus-per-worker expects a cluster with GPUs, but it has {resources.get('GPU', 0):g}; "
                             "leave the option out to embed on CPUs.")
        # Enough blocks for every worker, a few model batches each (a small corpus still spreads out).
        rows = max(BATCH_SIZE, min(BLOCK_ROWS, -(-todo.num_rows // max(1, workers))))
        blocks = [todo.slice(start, rows) for start in range(0, todo.num_rows, rows)]
        workers = max(1, min(workers, len(blocks)))
        placement = {"num_cpus": 0, "num_gpus": gpus_per_worker} if gpus_per_worker else {"num_cpus": 1}
        dataset = ray.data.from_arrow(blocks).map_batches(
            DocumentEncoder, fn_constructor_kwargs={"model": model, "device": device, "precision": precision},
            batch_size=rows, batch_format="pyarrow", concurrency=workers, **placement,
        )
        for batch in dataset.iter_batches(batch_size=WRITE_ROWS, batch_format="pyarrow"):
            # The vector size comes with the first batch: the driver never loads the model.
            store.ensure_embeddings(key, batch.schema.field("vector").type.list_size)
            store.write_embeddings(key, batch)
    if table in store.table_names():
        store.drop_stale_embeddings(key, live)
    return {"model_key": key, "precision": precision, "embedded": todo.num_rows, "documents": len(live),
            "rows": store.count(table) if table in store.table_names() else 0, "workers": workers if todo.num_rows else 0}
