"""Inference precision and backend: bf16 autocast and ONNX Runtime against float32 torch (issue 26).

    FLYWHEEL_DATASETS=/work/shared/datasets python bench/inference.py [--datasets demo,cranfield,cisi] [--repeats 2]
        [--variants bf16,onnx,onnx-int8] [--model PATH]

Per dataset: the bundled MiniLM (or --model) embeds the whole corpus with raw float32
`model.encode` (the baseline: a plain SentenceTransformer, batch 64, normalised) and with each
variant through Flywheel's path (`Embedder.encode_documents`: longest texts first, batches of
64): bf16 = autocast (core.search.precision), onnx / onnx-int8 = the transformer exported with
torch.onnx.export and run by onnxruntime, float32 or dynamically quantised (core.search.onnx).
Then nDCG@10 of the eval queries (all judged queries of a BEIR set), each variant embedding its
own queries. Target: >= 1.5x the baseline's speed at <= 0.005 nDCG@10 loss.

Timing: every variant and the baseline in the same run, interleaved, best of `--repeats`; the
machine may be shared, so read the ratios, not the seconds. The last stdout line is JSON, one
entry per dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import dataset_workspace

from core.evaluation import metrics
from core.labeling import labels
from core.search import onnx
from core.search.models import Embedder, document_text
from core.storage.store import Store

VARIANTS = ("bf16", "onnx", "onnx-int8")


def workspace(dataset: str) -> Store:
    return dataset_workspace(dataset, "flywheel-inference")


def embedders(model: str | None, variants: list[str], folder: Path) -> dict[str, Embedder]:
    """The float32 baseline and one Embedder per variant (ONNX files exported into `folder`)."""
    out = {"fp32": Embedder(model, precision="fp32")}
    if "bf16" in variants:
        out["bf16"] = Embedder(model, precision="bf16")
    if {"onnx", "onnx-int8"} & set(variants):
        fp32_file = onnx.export(out["fp32"].model, folder, int8="onnx-int8" in variants)
        for name, file in (("onnx", fp32_file), ("onnx-int8", fp32_file.with_name(onnx.INT8_FILE))):
            if name in variants:
                out[name] = Embedder(model, precision="fp32")
                onnx.attach(out[name].model, file)
    return out


def ndcg(store: Store, embedder: Embedder, doc_ids: list[str], doc_vectors: np.ndarray) -> float:
    query_ids = metrics.eval_query_ids(store) or list(store.read("queries", columns=["query_id"])["query_id"])
    qrels = labels.graded_qrels(store, query_ids)
    query_ids = metrics.judged_queries(qrels, 1)
    texts = store.query_texts(query_ids)
    scores = embedder.encode_queries([texts[q] for q in query_ids]) @ doc_vectors.T
    top = np.argsort(-scores, axis=1)[:, : metrics.DEPTH]
    rankings = {q: [(doc_ids[j], float(scores[i, j])) for j in top[i]] for i, q in enumerate(query_ids)}
    return metrics.compute(qrels, rankings)[0]["ndcg@10"]


def compare(dataset: str, repeats: int = 2, variants: list[str] | None = None, model: str | None = None, store: Store | None = None) -> dict:
    """Speed (over raw float32 `model.encode`) and nDCG@10 (minus float32's) of each variant on one dataset."""
    variants = [v for v in (variants or VARIANTS) if v != "fp32"]
    if "onnx" in "".join(variants) and not onnx.available():
        print("onnxruntime is not installed (pip install 'flywheel[onnx]'): the onnx variants are skipped", flush=True)
        variants = [v for v in variants if not v.startswith("onnx")]
    store = store or workspace(dataset)
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    doc_ids, texts = list(docs["doc_id"]), [document_text(t, x) for t, x in zip(docs["title"], docs["text"], strict=True)]
    models = embedders(model, variants, Path(tempfile.mkdtemp(prefix="flywheel-onnx-")))
    raw = models["fp32"].model
    raw.encode(texts[:64], batch_size=64)  # warm-up (the autocast wrapper is not on this one: precision fp32)
    for name in variants:
        models[name].encode_documents(texts[:64])
    seconds: dict[str, list[float]] = {name: [] for name in models}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        vectors["fp32"] = np.asarray(raw.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False), np.float32)
        seconds["fp32"].append(time.perf_counter() - start)
        for name in variants:
            start = time.perf_counter()
            vectors[name] = models[name].encode_documents(texts)
            seconds[name].append(time.perf_counter() - start)
    quality = {name: ndcg(store, embedder, doc_ids, vectors[name]) for name, embedder in models.items()}
    base_s = min(seconds["fp32"])
    result: dict = {"dataset": dataset, "documents": len(texts), "repeats": repeats, "load": [round(x, 2) for x in os.getloadavg()],
                    "fp32_s": round(base_s, 2), "fp32_docs_per_s": round(len(texts) / base_s, 1), "ndcg@10_fp32": round(quality["fp32"], 4)}
    for name in variants:
        best = min(seconds[name])
        cosine = float(np.mean(np.sum(vectors[name] * vectors["fp32"], axis=1)))
        speedup, delta = round(base_s / best, 2), round(quality[name] - quality["fp32"], 4)
        result[name] = {"s": round(best, 2), "docs_per_s": round(len(texts) / best, 1), "speedup": speedup, "ndcg@10": round(quality[name], 4),
                        "ndcg@10_delta": delta, "mean_cosine_to_fp32": round(cosine, 6), "passes": speedup >= 1.5 and delta >= -0.005}
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="demo,cranfield,cisi")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS))
    parser.add_argument("--model", default=None, help="a model folder (default: the bundled MiniLM)")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"--variants expects some of {', '.join(VARIANTS)}, but got {', '.join(sorted(unknown))}.")
    print(f"load: {os.getloadavg()}, cpus: {os.cpu_count()}", flush=True)
    results = [compare(name, args.repeats, variants, args.model) for name in args.datasets.split(",")]
    print(f"load after: {os.getloadavg()}", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
