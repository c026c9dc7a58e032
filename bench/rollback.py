"""Rolling back a killed 100,000-document import at the next open (issue 22, item 2; target <= 30 s).

    python bench/rollback.py [--docs 100000] [--queries 10000] [--qrels 50000] [--scenarios after-1,during-3,before-publish]
                             [--batch 20000] [--timeout 600]

Writes a generated BEIR set (short documents; nothing is embedded), then per scenario, on a fresh
workspace holding the demo dataset:
1. imports it in a child process (`import_path`, 20,000-row write batches), SIGKILLed at the
   scenario's point: `after-N` once N document batches have landed, between two batches;
   `during-N` half-way through the write of document batch N (timed by batch N - 1; whether it
   landed is read back);
   `before-publish` with every row written, just before the import event (the most to undo);
2. opens the workspace in a fresh child process, `Store(uri)` (what `flywheel status` and the app
   do first, and where the rollback runs), timing the open, with a time limit;
3. checks with raw LanceDB (a Store would roll back, or hide unpublished rows): rows of the import
   left, the demo's rows, and the table versions the rollback added.
Prints one JSON line per scenario. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

TABLES = ("documents", "queries", "judgments")
WORDS = "plan claim appeal network coverage premium referral pharmacy vision dental therapy invoice refund portal".split()

KILL = """
import os, signal, sys, threading, time
sys.path.insert(0, {root!r})
from core.storage import imports, operations
from core.storage.store import Store
point, n = {point!r}, {n!r}
imports.WRITE_BATCH = {batch!r}
calls = {{"documents": 0}}
def die():
    os.kill(os.getpid(), signal.SIGKILL)
if point == "after":  # before the journal hears of batch n + 1
    upsert = operations.Operation.upsert
    def op_upsert(self, name, rows, **kw):
        if name == "documents":
            calls[name] += 1
            if calls[name] == n + 1:
                die()
        return upsert(self, name, rows, **kw)
    operations.Operation.upsert = op_upsert
elif point == "during":  # the batch is journalled and backed up; the kill comes half-way through its write
    store_upsert, took = Store.upsert, [0.2]
    def write(self, name, rows, **kw):
        if name != "documents":
            return store_upsert(self, name, rows, **kw)
        calls[name] += 1
        if calls[name] == n:
            threading.Timer(took[-1] / 2, die).start()  # half the previous batch's write
        started = time.perf_counter()
        result = store_upsert(self, name, rows, **kw)
        took.append(time.perf_counter() - started)
        if calls[name] == n:
            time.sleep(60)  # the write was quicker this time: the kill still comes, between batches
        return result
    Store.upsert = write
else:  # before-publish: every row written, the import event next
    add = operations.Operation.add
    def op_add(self, name, rows):
        if name == "events":
            die()
        return add(self, name, rows)
    operations.Operation.add = op_add
imports.import_path(Store({uri!r}), {path!r}, name="big")
"""

OPEN = """
import json, sys, time
sys.path.insert(0, {root!r})
from core.storage.store import Store
started = time.perf_counter()
store = Store({uri!r})
print(json.dumps({{"open_s": round(time.perf_counter() - started, 2), "recovered": store.recovered}}), flush=True)
"""


def write_beir(folder: Path, docs: int, queries: int, qrels: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as out:
        for i in range(docs):
            out.write(json.dumps({"_id": f"big{i:06d}", "title": "", "text": " ".join(rng.choices(WORDS, k=8))}) + "\n")
    with open(folder / "queries.jsonl", "w") as out:
        for q in range(queries):
            out.write(json.dumps({"_id": f"bq{q:06d}", "text": " ".join(rng.choices(WORDS, k=4)) + "?"}) + "\n")
    pairs = {(f"bq{rng.randrange(queries):06d}", f"big{rng.randrange(docs):06d}") for _ in range(qrels)} if queries else set()
    with open(folder / "qrels" / "test.tsv", "w") as out:
        out.write("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{rng.randint(0, 3)}\n" for q, d in sorted(pairs)))


def raw_state(uri: str) -> dict:
    """Rows and versions read with LanceDB itself: the import's rows, the demo's, each table's version."""
    import lancedb

    db = lancedb.connect(uri)
    tables = {name: db.open_table(name) for name in TABLES}
    return {"import_rows": {"documents": tables["documents"].count_rows("source = 'big'"),
                            "queries": tables["queries"].count_rows("source = 'big'"),
                            "judgments": tables["judgments"].count_rows("reviewer = 'import:big'")},
            "demo_rows": {"documents": tables["documents"].count_rows("source = 'demo'"),
                          "queries": tables["queries"].count_rows("source = 'demo'"),
                          "judgments": tables["judgments"].count_rows("reviewer = 'import:demo'")},
            "versions": {name: table.version for name, table in tables.items()},
            "journal": db.open_table("journal").count_rows()}


def scenario(name: str, corpus: Path, timeout: float, batch: int) -> dict:
    from core.storage.demo import load_demo
    from core.storage.store import Store

    point, _, n = name.rpartition("-") if name[-1].isdigit() else (name, "", "0")
    with tempfile.TemporaryDirectory() as scratch:
        uri = str(Path(scratch) / "db")
        load_demo(Store(uri))
        demo = raw_state(uri)["demo_rows"]
        started = time.perf_counter()
        killed = subprocess.run([sys.executable, "-c", KILL.format(root=str(ROOT), point=point, n=int(n or 0), batch=batch, uri=uri,
                                                                path=str(corpus))],
                                capture_output=True, text=True, timeout=3600)
        if killed.returncode != -9:
            raise SystemExit(f"the import was not killed (exit {killed.returncode}): {killed.stderr[-2000:]}")
        import_s = time.perf_counter() - started
        left = raw_state(uri)
        result = {"scenario": name, "import_killed_after_s": round(import_s, 1), "left_by_the_kill": left["import_rows"],
                  "load_before_open": os.getloadavg()[0]}
        if point == "during":  # a quick write may land before the kill: then it came between batches
            result["killed_mid_write"] = left["import_rows"]["documents"] < int(n) * batch
        try:
            opened = subprocess.run([sys.executable, "-c", OPEN.format(root=str(ROOT), uri=uri)], capture_output=True, text=True,
                                    timeout=timeout)
            if opened.returncode:
                raise SystemExit(opened.stderr[-3000:])
            result.update(json.loads(opened.stdout.strip().splitlines()[-1]))
        except subprocess.TimeoutExpired:
            result.update(open_s=f"> {timeout:.0f} (stopped)", recovered=[])
        after = raw_state(uri)
        result.update(import_rows_after=after["import_rows"], demo_intact=after["demo_rows"] == demo, journal_after=after["journal"],
                      versions_added={t: after["versions"][t] - left["versions"][t] for t in TABLES},
                      load_after_open=os.getloadavg()[0])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--qrels", type=int, default=50_000)
    parser.add_argument("--scenarios", default="after-1,during-3,before-publish")
    parser.add_argument("--batch", type=int, default=20_000, help="rows per import write (the product's WRITE_BATCH)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the open (the rollback) may take")
    args = parser.parse_args()
    print(json.dumps({"load_average": os.getloadavg()}), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "big"
        write_beir(corpus, args.docs, args.queries, args.qrels)
        for name in args.scenarios.split(","):
            print(json.dumps(scenario(name, corpus, args.timeout, args.batch)), flush=True)


if __name__ == "__main__":
    main()
