"""Is a cheaper inference backend as good? Dynamic int8 quantisation of the bundled bi-encoder
against float32, on the demo and Cranfield: corpus-embedding speed and nDCG@10 on the eval set.

    FLYWHEEL_DATASETS=../shared/datasets python bench/quantize.py [--datasets demo,cranfield] [--repeats 2]

Target (issue #18): >= 1.5x faster at <= 0.005 nDCG@10 loss. Both sides are timed in this run,
interleaved, best of `--repeats`; the machine may be shared, so read the ratio, not the seconds.
ONNX / OpenVINO are not measured here: sentence-transformers' backends need optimum-onnx or
optimum-intel, which pin transformers below the version sentence-transformers 6 runs on (see
bench/README.md). The last stdout line is JSON, one entry per dataset.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np
from common import dataset_workspace

from core.evaluation import metrics
from core.labeling import labels
from core.search.models import Embedder, document_text
from core.storage.store import Store


def workspace(dataset: str) -> Store:
    return dataset_workspace(dataset, "flywheel-quant")


def int8(model):
    """torch's dynamic quantisation: Linear weights stored as int8, activations quantised per batch."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def embed(model, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, np.float32), time.perf_counter() - start


def ndcg(store: Store, model, doc_ids: list[str], doc_vectors: np.ndarray) -> float:
    query_ids = metrics.eval_query_ids(store) or list(store.read("queries", columns=["query_id"])["query_id"])
    qrels = labels.graded_qrels(store, query_ids)
    query_ids = metrics.judged_queries(qrels, 1)
    texts = store.query_texts(query_ids)
    vectors = np.asarray(model.encode([texts[q] for q in query_ids], batch_size=64, normalize_embeddings=True, show_progress_bar=False))
    scores = vectors @ doc_vectors.T
    top = np.argsort(-scores, axis=1)[:, : metrics.DEPTH]
    rankings = {q: [(doc_ids[j], float(scores[i, j])) for j in top[i]] for i, q in enumerate(query_ids)}
    return metrics.compute(qrels, rankings)[0]["ndcg@10"]


def bench(dataset: str, repeats: int) -> dict:
    store = workspace(dataset)
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    doc_ids, texts = list(docs["doc_id"]), [document_text(t, x) for t, x in zip(docs["title"], docs["text"], strict=True)]
    base = Embedder(precision="fp32").model  # float32 on every CPU: the inference default is bf16 where native
    models = {"float32": base, "int8": int8(base)}
    seconds: dict[str, list[float]] = {name: [] for name in models}
    vectors = {}
    for _ in range(repeats):
        for name, model in models.items():
            vectors[name], took = embed(model, texts)
            seconds[name].append(took)
    quality = {name: ndcg(store, model, doc_ids, vectors[name]) for name, model in models.items()}
    result = {"dataset": dataset, "documents": len(texts), "float32_s": round(min(seconds["float32"]), 2), "int8_s": round(min(seconds["int8"]), 2),
              "speed_ratio": round(min(seconds["float32"]) / min(seconds["int8"]), 2),
              "ndcg@10_float32": round(quality["float32"], 4), "ndcg@10_int8": round(quality["int8"], 4),
              "ndcg@10_delta": round(quality["int8"] - quality["float32"], 4)}
    result["passes"] = result["speed_ratio"] >= 1.5 and result["ndcg@10_delta"] >= -0.005
    print(result, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="demo,cranfield")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results = [bench(name, args.repeats) for name in args.datasets.split(",")]
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
