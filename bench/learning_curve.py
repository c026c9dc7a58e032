"""Learning curve on the demo and on Cranfield: wall time, the backtest error beside the projection,
and the time of the whole curve as a ratio of one plain adapter run (the library-level unit it repeats).

    python bench/learning_curve.py [demo cranfield] [--kind adapter|bi-encoder] [--seeds N]

Each dataset goes into a fresh temporary workspace, so the wall time includes embedding the corpus once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from common import DATASETS, run_kinds

from core.settings import Settings
from core.storage.demo import load_demo
from core.storage.imports import import_path
from core.storage.splits import assign_splits
from core.storage.store import Store
from core.training import curve


def _cpu() -> float:
    """CPU seconds of this process, all threads (wall time depends on who else is using the machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def workspace(name: str) -> tuple[Store, Settings]:
    settings = Settings(workspace=tempfile.mkdtemp(prefix=f"flywheel-curve-{name}-"))
    store = Store(settings.db_uri)
    if name == "demo":
        load_demo(store)
    else:
        import_path(store, DATASETS / name, name=name)
        assign_splits(store, eval_fraction=0.3, seed=0, reset=True)  # the seeded 70/30 split of bench/finetune_cranfield.py
    return store, settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*", default=["demo", "cranfield"])
    parser.add_argument("--kind", default="adapter")
    parser.add_argument("--seeds", type=int, default=0)
    parser.add_argument("--time-budget", type=float, default=0.0)
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        store, settings = workspace(name)
        started, cpu = time.time(), _cpu()
        job = curve.launch(store, settings, curve.CurveConfig(kind=args.kind, seeds=args.seeds, time_budget_s=args.time_budget),
                           background=False)
        wall, cpu = time.time() - started, _cpu() - cpu
        result = curve.summarize(store, job.run_id)
        single = run_kinds(store, settings, [args.kind])[0]  # corpus embeddings are cached by now, as they were for the curve's points
        result.pop("band")
        print(json.dumps(result | {"dataset": name, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "single_run_s": single["wall_s"]}), flush=True)
        rows.append((name, result, wall, cpu, single["wall_s"]))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| data | kind | points | wall s | CPU s | x one run | today | backtest predicted → measured (error) | 2x labels | informative |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r, wall, cpu, single in rows:
        b, head = r["backtest"], next(p for p in r["projection"] if p["multiplier"] == 2.0)
        today = r["points"][-1]
        print(f"| {name} | {r['kind']} | {sum(p['seeds'] for p in r['points'])} | {wall:.0f} | {cpu:.0f} | {wall / single:.1f} | "
              f"{today['value']:.3f} ({today['train_queries']} q) | {b['predicted']} → {b['actual']} ({b['error']}) | "
              f"{head['value']:.3f} ({head['low']:.3f}–{head['high']:.3f}) | {r['informative']} |")


if __name__ == "__main__":
    main()
