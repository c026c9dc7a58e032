"""Judges on the demo: agreement of each model judge with the demo's grades, and PPI++ against the
classical interval at 10, 20 and 40 audit queries, against the all-human value.

    python bench/judge.py [--workspace PATH] [--sizes 10,20,40] [--draws 200] [--metric ndcg@10]

Without --workspace it loads the demo into a temporary workspace and trains a cross-encoder and a
bi-encoder with default settings (minutes). The demo's grades are imported qrels: they stand in
for people here (include_imports), and every eval query is graded, so each draw picks a random
audit sample of n eval queries, treats the rest as unlabelled, and the mean over all 82 eval
queries under the demo's grades is the truth each interval should cover.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from common import run_kinds  # noqa: F401 - sets the offline environment and sys.path

from core.evaluation import judges, metrics, ppi
from core.settings import Settings
from core.storage.store import Store
from core.training import estimates


def workspace(path: str) -> tuple[Store, Settings]:
    if path:
        settings = Settings.from_env(path)
        return Store(settings.db_uri, create=False), settings
    from core.storage.demo import load_demo

    settings = Settings.from_env(tempfile.mkdtemp(prefix="judge-bench-"))
    store = Store(settings.db_uri)
    load_demo(store)
    run_kinds(store, settings, ["cross-encoder", "bi-encoder"])
    return store, settings


def make(store: Store, source: str) -> judges.Judge:
    return judges.make(store, source, pipeline=lambda folder: estimates.load_pipeline(folder, store))


def agreement_rows(store: Store, settings: Settings, made: dict[str, judges.Judge]) -> list[dict]:
    out = []
    for judge in made.values():
        started = time.time()
        found = judges.agreement(store, judge, include_imports=True, relevant_grade=settings.relevant_grade).as_dict()
        found["seconds"] = round(time.time() - started, 1)
        print(json.dumps({"agreement": found}), flush=True)
        out.append(found)
    return out


def draws(store: Store, settings: Settings, run_id: str, judge: judges.Judge, metric: str, sizes: list[int], count: int) -> list[dict]:
    """Many seeded audit samples of each size from one set of per-query values."""
    queries = judge.allowed(metrics.eval_query_ids(store))
    ranked = [estimates.run_rankings(store, run_id, queries)]
    common = dict(metric=metric, include_imports=True, relevant_grade=settings.relevant_grade)
    human, judged, _, _ = estimates.values(store, judge, ranked, queries, queries, **common)  # every query, people's documents pooled
    _, _, unlabelled, _ = estimates.values(store, judge, ranked, queries, [], **common)  # the judge alone, as on unaudited queries
    truth = float(human.mean())
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        found = []
        for _ in range(count):
            pick = rng.permutation(len(queries))
            audit, rest = pick[:n], pick[n:]
            found.append(ppi.estimate(human[audit], judged[audit], unlabelled[rest]))
        row = {"run": run_id, "judge": judge.name, "metric": metric, "audit_queries": n, "queries": len(queries), "all_human": round(truth, 4),
               "judge_mean_all": round(float(unlabelled.mean()), 4), "r_all": round(ppi.pearson(human, judged) or 0.0, 3),
               "ppi_width": round(float(np.mean([e.ppi.width for e in found])), 4),
               "classical_width": round(float(np.mean([e.classical.width for e in found])), 4),
               "ppi_covers": round(float(np.mean([e.ppi.low <= truth <= e.ppi.high for e in found])), 3),
               "classical_covers": round(float(np.mean([e.classical.low <= truth <= e.classical.high for e in found])), 3),
               "ppi_abs_error": round(float(np.mean([abs(e.ppi.estimate - truth) for e in found])), 4),
               "classical_abs_error": round(float(np.mean([abs(e.classical.estimate - truth) for e in found])), 4),
               "effective_queries": round(float(np.median([e.effective_queries for e in found])), 1),
               "used_ppi": round(float(np.mean([e.used_ppi for e in found])), 3), "draws": count}
        print(json.dumps({"ppi": row}), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="", help="a workspace with the demo and trained runs (default: make one)")
    parser.add_argument("--sizes", default="10,20,40")
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--metric", default="ndcg@10")
    parser.add_argument("--run", default="", help="the run to estimate (default: the newest that ships a pipeline)")
    args = parser.parse_args()
    store, settings = workspace(args.workspace)
    print(json.dumps({"load_1min": os.getloadavg()[0]}), flush=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    run_id = args.run or estimates.shipped_runs(store)[0]
    for source in [s for s in judges.sources(store) if s != "llm"]:  # each judge's figures as soon as they are known
        judge = make(store, source)
        agreement_rows(store, settings, {source: judge})
        draws(store, settings, run_id, judge, args.metric, sizes, args.draws)
    print(json.dumps({"load_1min": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
