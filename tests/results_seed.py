"""Seeded runs/metrics/query_results for the results tests (the shape core.evaluation.metrics writes).

Each eval query has exactly one relevant document (grade 5) and one hard negative (grade 0),
so every metric follows from the rank of that document and the numbers are exact:
recall@k = hit, precision@k = hit/k, mrr@k = map@k = hit/rank, ndcg@k = hit/log2(rank+1).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from core.storage.schemas import Document, Judgment, Metric, Query, QueryResult, Run, now
from core.storage.store import Store

KS = (1, 3, 5, 10, 20)
N_DOCS = 60
BEFORE_RANKS = (1, 2, 3, 4, 6, 8, 12, 15, 0, 0)


def values_for(rank: int) -> dict[str, float]:
    out = {}
    for k in KS:
        hit = 0 < rank <= k
        out[f"recall@{k}"] = float(hit)
        out[f"precision@{k}"] = 1 / k if hit else 0.0
        out[f"mrr@{k}"] = 1 / rank if hit else 0.0
        out[f"map@{k}"] = 1 / rank if hit else 0.0
        out[f"ndcg@{k}"] = 1 / math.log2(rank + 1) if hit else 0.0
    return out


def ranking_for(rank: int, relevant: str, rng: np.random.Generator) -> list[list]:
    others = [f"d{i}" for i in rng.permutation(N_DOCS) + 1 if f"d{i}" != relevant][:20]
    if rank:
        others.insert(rank - 1, relevant)
    docs = others[:20]
    return [[d, round(0.9 - 0.02 * i, 4)] for i, d in enumerate(docs)]


def add_run(store: Store, run_id: str, ranks: dict[str, dict[str, int]], *, kind: str = "bi-encoder", train_pairs: int = 400,
            snapshot_hash: str = "h-eval-1", relevant: dict[str, str], status: str = "succeeded", seed: int = 0) -> None:
    """ranks: stage -> query_id -> first relevant rank (0 = not in top 20)."""
    rng = np.random.default_rng(seed)
    stamp = now()
    queries = sorted(next(iter(ranks.values())))
    store.add("runs", [Run(
        run_id=run_id, kind=kind, base_model="all-MiniLM-L6-v2", status=status, created_at=stamp, finished_at=None if status == "running" else stamp,
        pid=os.getpid() if status == "running" else 0,  # alive, so start-up does not mark it interrupted
        config=json.dumps({"kind": kind, "epochs": 1, "batch_size": 16, "learning_rate": 2e-5, "seed": seed}),
        snapshot=json.dumps({"train_queries": train_pairs // 4, "eval_queries": len(queries), "train_pairs": train_pairs,
                             "positives": train_pairs, "hard_negatives": train_pairs // 2}),
        snapshot_hash=snapshot_hash, model_path=f"/tmp/models/{run_id}",
    )])
    rows, metrics = [], []
    for stage, per_query in ranks.items():
        table = {qid: values_for(rank) for qid, rank in per_query.items()}
        for qid, rank in per_query.items():
            rows.append(QueryResult(run_id=run_id, stage=stage, query_id=qid, first_relevant_rank=rank,
                                    values=json.dumps(table[qid]), ranking=json.dumps(ranking_for(rank, relevant[qid], rng))))
        for key in table[queries[0]]:
            name, k = key.split("@")
            metrics.append(Metric(run_id=run_id, stage=stage, name=name, k=int(k), value=float(np.mean([v[key] for v in table.values()]))))
    store.add("query_results", rows)
    store.add("metrics", metrics)


def seed_results(store: Store, n_queries: int = 40) -> dict:
    """Documents, eval queries with judgments, and five runs:
    r-big (clear improvement, 800 pairs), r-small (adapter, 200 pairs) and r-mid (bi-encoder, 400 pairs)
    on the same eval set, r-other (another eval set), r-running (only its 'before' evaluation so far)."""
    rng = np.random.default_rng(7)
    stamp = now()
    store.add("documents", [Document(doc_id=f"d{i}", title=f"Plan document {i}", text=f"Benefits text number {i}.")
                            for i in range(1, N_DOCS + 1)])
    qids = [f"e{i:02d}" for i in range(1, n_queries + 1)]
    relevant = {qid: f"d{i + 1}" for i, qid in enumerate(qids)}
    negative = {qid: f"d{(i + 7) % N_DOCS + 1}" for i, qid in enumerate(qids)}
    store.add("queries", [Query(query_id=q, text=f"question number {q[1:]} about the plan", split="eval", created_at=stamp)
                          for q in qids])
    store.add("judgments", [
        Judgment(query_id=q, doc_id=d, reviewer="import:seed", grade=g, hard_negative=g == 0, created_at=stamp, updated_at=stamp)
        for q in qids for d, g in ((relevant[q], 5), (negative[q], 0))
    ])
    before = {q: int(rng.choice(BEFORE_RANKS)) for q in qids}
    # r-big: most queries move their relevant doc up; three get worse; some stay.
    after = {}
    for i, q in enumerate(qids):
        b = before[q]
        if i in (3, 11, 19, 25):
            after[q] = 12 if 0 < b <= 10 else 0
        elif i % 5 == 4:
            after[q] = b
        else:
            after[q] = 1 if b in (0, 1, 2, 3, 4) else max(1, b // 3)
    small = {q: (after[q] if i % 2 == 0 else before[q]) for i, q in enumerate(qids)}
    mid = {q: (after[q] if i % 4 else before[q]) for i, q in enumerate(qids)}
    add_run(store, "r-small", {"before": before, "after": small}, kind="adapter", train_pairs=200, relevant=relevant, seed=1)
    add_run(store, "r-mid", {"before": before, "after": mid}, train_pairs=400, relevant=relevant, seed=4)
    add_run(store, "r-other", {"before": before, "after": after}, train_pairs=800, snapshot_hash="h-eval-2", relevant=relevant, seed=2)
    add_run(store, "r-big", {"before": before, "after": after}, train_pairs=800, relevant=relevant, seed=3)
    add_run(store, "r-running", {"before": before}, status="running", relevant=relevant, seed=5)  # evaluated 'before' only, so far
    return {"queries": qids, "before": before, "after": after, "small": small, "mid": mid, "relevant": relevant}
