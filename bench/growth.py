"""How big a busy workspace grows, and what `flywheel optimize` gives back (issue 28, item 4).

On a fresh copy of the demo workspace, PROCESSES processes store GRADES grades between them
through the Grade page's own call (core.labeling.grading.grade: a judgments upsert and an
event, each a new table version; the app's compaction every 200 writes a table). Then:
- `optimize` with the workspace's retention (7 days: every version here is minutes old, so it
  compacts but prunes nothing: what a busy week looks like on disk);
- `optimize` keeping no old version (what the same workspace shrinks to once those versions are
  older than the retention: the floor);
and a backup of the result. Prints one JSON line per stage: bytes on disk, table versions,
seconds.

    python bench/growth.py --grades 10000 --processes 2
    python bench/growth.py --grades 10000 --workspace DIR   # keep the workspace; a second run goes on from the grades there
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.settings import Settings  # noqa: E402
from core.storage import backup, retention  # noqa: E402
from core.storage.demo import load_demo  # noqa: E402
from core.storage.store import Store  # noqa: E402


def grader(args: tuple[str, int, int, int]) -> int:
    """Grades number `start`, `start + step`, … below `total`: distinct (query, doc, reviewer) keys, as a team makes."""
    from core.labeling import grading

    uri, start, step, total = args
    store = Store(uri)
    queries = sorted(store.read("queries", columns=["query_id"])["query_id"])
    docs = sorted(store.read("documents", columns=["doc_id"])["doc_id"])
    done = 0
    for i in range(start, total, step):
        query, doc = queries[i % len(queries)], docs[(i // len(queries)) % len(docs)]
        grading.grade(store, f"reviewer-{i % 5}", query, doc, i % 6)
        done += 1
    return done


def stage(name: str, store: Store, started: float, **extra) -> dict:
    line = {"stage": name, **retention.footprint(store), "seconds": round(time.monotonic() - started, 1),
            "load_1min": round(os.getloadavg()[0], 1), **extra}
    print(json.dumps(line), flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", type=int, default=10_000, help="grades in the workspace before it is measured")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--workspace", default="", help="a workspace to keep (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(workspace=args.workspace or str(Path(tmp) / "workspace"))
        store = Store(settings.db_uri)
        load_demo(store)
        done = store.count("events", "action = 'grade'")
        stage("demo loaded" if not done else f"{done} grades there already", store, time.monotonic())
        started = time.monotonic()
        if done < args.grades:
            with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
                pool.map(grader, [(store.uri, done + p, args.processes, args.grades) for p in range(args.processes)])
        graded = store.count("events", "action = 'grade'")
        stage(f"after {graded} grades", store, started, grades_per_s=round((graded - done) / (time.monotonic() - started), 1))
        started = time.monotonic()
        retention.optimize(store)
        stage("optimize, retention 7 days", store, started)
        started = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # LanceDB's own warning about keeping no old version
            retention.optimize(store, keep=timedelta(0))
        stage("optimize, no old version kept", store, started)
        started = time.monotonic()
        manifest = backup.backup(store, settings, Path(tmp) / "backup")
        size = sum(p.stat().st_size for p in (Path(tmp) / "backup").rglob("*") if p.is_file())
        print(json.dumps({"stage": "backup", "bytes": size, "seconds": round(time.monotonic() - started, 1),
                          "judgments": manifest["tables"]["judgments"]["rows"], "events": manifest["tables"]["events"]["rows"]}))


if __name__ == "__main__":
    main()
