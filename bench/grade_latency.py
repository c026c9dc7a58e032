"""Key press → next document on the grade page, in headless Chromium, with 100,000 judgments stored.

    python bench/grade_latency.py [--judgments 100000] [--presses 40] [--mode hybrid]

Builds a throwaway workspace (documents, approved queries, judgments by five reviewers and
their grade events), serves the app, signs in as a new reviewer and grades from the
keyboard (--no-post-script-gc: with Streamlit's after-run gc.collect off). Prints the median and p90 of the time from the key press until the next
document's id is in the DOM, split into presses within a query and presses that open the
next query; and the store-side cost of one grade (core.labeling.grading.grade) as a ratio of raw LanceDB
doing the same read, merge_insert and event append in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.labeling import grading
from core.settings import Settings  # noqa: E402
from core.storage.schemas import Document, Event, Judgment, Query, now  # noqa: E402
from core.storage.store import Store  # noqa: E402

WORDS = ("plan deductible copay claim appeal dependent network coverage premium referral pharmacy vision dental "
         "therapy emergency urgent specialist primary preventive screening vaccine maternity newborn spouse "
         "enrollment renewal waiver exception formulary tier generic brand mail order telehealth").split()


def build(workspace: str, judgments: int, per_query: int = 10, docs: int = 500, fresh: int = 500, seed: int = 0) -> Store:
    rng = random.Random(seed)
    store = Store(Settings.from_env(workspace).db_uri)
    stamp = now()
    store.add("documents", [Document(doc_id=f"d{i}", title=" ".join(rng.sample(WORDS, 3)).title(),
                                     text=" ".join(rng.choices(WORDS, k=60))) for i in range(docs)])
    graded = judgments // per_query
    store.add("queries", [Query(query_id=f"q{i:06d}", text=" ".join(rng.sample(WORDS, 4)), created_at=stamp + timedelta(microseconds=i))
                          for i in range(graded + fresh)])
    rows, events = [], []
    for n in range(judgments):
        qid, reviewer = f"q{n // per_query:06d}", f"r{(n // per_query) % 5}"
        doc = f"d{(n * 7919) % docs}"
        at = stamp - timedelta(seconds=judgments - n)
        rows.append(Judgment(query_id=qid, doc_id=doc, reviewer=reviewer, grade=rng.randint(0, 5), created_at=at, updated_at=at))
        events.append(Event(event_id=uuid.uuid4().hex, at=at, actor=reviewer, action="grade", target=f"judgment:{qid}/{doc}"))
    for start in range(0, judgments, 50_000):
        store.add("judgments", rows[start : start + 50_000])
        store.add("events", events[start : start + 50_000])
    store.ensure_fts_index()
    for name in ("judgments", "events", "queries", "documents"):
        store.compact(name)
    return store


def store_side(store: Store, n: int = 20) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        grading.grade(store, "bench-store", "q000001", f"d{i}", i % 6)
        times.append(time.perf_counter() - start)
    return times


def raw_side(uri: str, n: int = 20) -> list[float]:
    """The same work as core.labeling.grading.grade with LanceDB alone: read the previous row, merge_insert
    the judgment on its key, append the event. The baseline the store side is a ratio of."""
    import lancedb
    import pyarrow as pa

    db = lancedb.connect(uri)
    judgments, events = db.open_table("judgments"), db.open_table("events")
    times = []
    for i in range(n):
        start = time.perf_counter()
        key = f"query_id = 'q000002' AND doc_id = 'd{i}' AND reviewer = 'bench-raw'"
        judgments.search().where(key).limit(1).to_pandas()
        stamp = now()
        row = Judgment(query_id="q000002", doc_id=f"d{i}", reviewer="bench-raw", grade=i % 6, created_at=stamp, updated_at=stamp)
        (judgments.merge_insert(["query_id", "doc_id", "reviewer"]).when_matched_update_all().when_not_matched_insert_all()
         .execute(pa.Table.from_pylist([row.model_dump()], schema=judgments.schema)))
        event = Event(event_id=uuid.uuid4().hex, at=stamp, actor="bench-raw", action="grade", target=f"judgment:q000002/d{i}")
        events.add(pa.Table.from_pylist([event.model_dump()], schema=events.schema))
        times.append(time.perf_counter() - start)
    return times


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: none"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{label}: n={len(values)} median {statistics.median(values) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "vector", "full-text"])
    parser.add_argument("--no-post-script-gc", action="store_true",
                        help="serve with Streamlit's runner.postScriptGC off: its gc.collect(2) after every run costs "
                             "~0.7 s once torch is loaded, and delays the last deltas of each rerun")
    args = parser.parse_args()
    if args.no_post_script_gc:
        os.environ["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "false"

    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.test_grade_browser import choose, current_doc, open_grade_page, start_grade_app, wait_idle

    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    workspace = str(tmp / "workspace")
    started = time.perf_counter()
    store = build(workspace, args.judgments)
    print(f"workspace: {store.count('judgments'):,} judgments, {store.count('events'):,} events, "
          f"{store.count('queries'):,} queries, {store.count('documents'):,} documents (built in {time.perf_counter() - started:.0f} s)")
    process, url = start_grade_app(workspace, tmp)
    within, across = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = open_grade_page(browser, url, "bench")
            if args.mode != "hybrid":
                page.get_by_text("Queue and view settings").click()
                choose(page, "Candidates from", args.mode)
                page.locator("h1").first.click()
            for n in range(args.presses):
                before_doc = current_doc(page)
                before_query = page.locator("h3").first.inner_text()
                start = time.perf_counter()
                page.keyboard.press(str(n % 6))
                page.wait_for_function(
                    "prev => { const e = document.querySelector('.st-key-g_document code'); return e && e.innerText !== prev; }",
                    arg=before_doc, polling="raf", timeout=60_000)
                elapsed = time.perf_counter() - start
                (within if page.locator("h3").first.inner_text() == before_query else across).append(elapsed)
                wait_idle(page)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    stored = store.count("judgments", "reviewer = 'bench'")
    print(f"graded in the browser: {stored} of {args.presses} presses stored (mode {args.mode})")
    print(summary("key press → next document, same query", within))
    print(summary("key press → next document, next query", across))
    print(summary("key press → next document, all", within + across))
    flywheel, raw = store_side(store), raw_side(store.uri)
    print(summary("store side of one grade (core.labeling.grading.grade)", flywheel))
    print(summary("raw LanceDB doing the same read + merge_insert + event", raw))
    print(f"ratio flywheel / raw LanceDB (medians): {statistics.median(flywheel) / statistics.median(raw):.2f}")
    return 0 if stored == args.presses else 1


if __name__ == "__main__":
    sys.exit(main())
