"""Loading embedding models offline, and the key that names one model version.

An `Embedder` wraps a SentenceTransformer (plus an optional linear query adapter). Callers
create one and keep it (the UI caches it per process); core holds no model cache of its own.
It embeds in the inference precision (core.search.precision: bf16 autocast where the hardware
has it, FLYWHEEL_PRECISION=fp32 forces float32), and its key names that precision, so vectors
of one precision are never searched with queries of another, nor runs compared across them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.progress import Progress
from core.search.precision import for_inference
from core.settings import default_model_path
from core.storage.schemas import document_text  # noqa: F401 (models read documents this way)

ADAPTER_FILE = "flywheel_adapter.json"


def resolve_model(name_or_path: str | None) -> str:
    """'' or 'default' → the bundled MiniLM; otherwise a local path or a hub id, as given."""
    if not name_or_path or name_or_path in {"default", "minilm", "all-MiniLM-L6-v2"}:
        return default_model_path()
    return str(name_or_path)


def model_key(name_or_path: str) -> str:
    """A table-safe name for one model version: a slug plus a fingerprint of its files.

    A local folder is fingerprinted by file names, sizes and the first/last MiB of each
    file, so a retrained model in the same folder gets a new key and an unchanged one never
    re-embeds. A hub id is keyed by its name.
    """
    path = Path(name_or_path)
    digest = hashlib.sha1()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            size = file.stat().st_size
            digest.update(f"{file.relative_to(path)}:{size}".encode())
            with file.open("rb") as handle:
                digest.update(handle.read(1 << 20))
                if size > 2 << 20:
                    handle.seek(-(1 << 20), 2)
                    digest.update(handle.read())
        slug = path.name if path.name != "model" else path.parent.name
    else:
        digest.update(name_or_path.encode())
        slug = name_or_path
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug).strip("_").lower()[:40] or "model"
    return f"{slug}_{digest.hexdigest()[:10]}"


def embeddings_key(name_or_path: str, precision: str) -> str:
    """The key of one model version's embeddings in one precision: `model_key`, plus "_bf16" for
    bf16. Float32 keeps the bare key, so the tables every workspace already holds (all float32)
    keep their name and meaning: nothing to migrate; a bf16 machine embeds its own table once."""
    key = model_key(name_or_path)
    return key if precision == "fp32" else f"{key}_{precision}"


class Embedder:
    """Normalised query and document embeddings from one model version."""

    def __init__(self, name_or_path: str | None = None, device: str | None = None, precision: str | None = None):
        """`precision`: "auto", "fp32" or "bf16" (None: the FLYWHEEL_PRECISION setting, else "auto")."""
        from sentence_transformers import SentenceTransformer

        path = resolve_model(name_or_path)
        self.adapter: np.ndarray | None = None
        adapter_file = Path(path) / ADAPTER_FILE
        if adapter_file.exists():
            spec = json.loads(adapter_file.read_text())
            self.adapter = np.load(Path(path) / spec["matrix"]).astype(np.float32)
            self.adapter_path = path
            path = resolve_model(spec["base_model"])
        self.path = path
        try:
            self.model = SentenceTransformer(path, device=device or "cpu")
        except (OSError, ValueError) as error:
            raise InputError(
                f"cannot load embedding model '{path}': {error}. Give a local model folder, "
                "or a hub id on a machine that can reach the hub."
            ) from error
        # Every encode of this model, the library's mining included, runs in the inference precision.
        self.precision = for_inference(self.model, precision).flywheel_precision
        # Documents are embedded by the base model; an adapter changes queries only.
        self.key = embeddings_key(path, self.precision)
        # workspace URI -> (documents version, embeddings version) last seen complete: a search
        # on an unchanged corpus skips re-reading and hashing every document.
        self.current: dict[str, tuple[int, int]] = {}
        self.dim = self.model.get_embedding_dimension()

    def encode_documents(self, texts: Sequence[str], progress: Progress | None = None, batch_size: int = 64) -> np.ndarray:
        """Longest texts first, in chunks of a few batches (for progress): like `encode` on the whole
        list, each batch holds texts of similar length, so little of it is padding."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dim), np.float32)
        chunk = 4 * batch_size
        if progress and texts:
            progress(0, len(texts))  # the phase and its size show at once, not after the first chunk
        for start in range(0, len(order), chunk):
            picked = order[start : start + chunk]
            out[picked] = self.model.encode([texts[i] for i in picked], batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
            if progress:
                progress(min(start + chunk, len(texts)), len(texts))
        return out

    def encode_queries(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        if self.adapter is not None:
            vectors = vectors @ self.adapter
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        return vectors
