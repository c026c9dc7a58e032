"""One review decision end to end in the browser, on the demo data with no API key.

    python bench/review_latency.py [--decisions 22]

Loads the demo into a throwaway workspace, serves the app, opens the Review page in headless
Chromium, generates 20 queries with the offline generator (the Generate button), then decides
from the keyboard alone (a = approve, x = reject, s = skip, u = undo). Prints the time from
each key press until the next item is on screen (the decision is stored before it shows) and
until the page is ready for the next key, what was stored, and the store side of one approval (core.labeling.review.approve) as a ratio of raw LanceDB
doing the same read, guarded merge_insert, read-back and event append in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grade_latency import summary  # noqa: E402

from core.labeling import review
from core.labeling.generation import OfflineGenerator, generate, select_documents  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage.demo import load_demo  # noqa: E402
from core.storage.schemas import Event, now  # noqa: E402
from core.storage.store import Store  # noqa: E402

KEYS = ["a"] * 12 + ["x"] * 4 + ["s"] * 2 + ["u"] + ["a"] * 3
ITEM = "[data-testid=review-query]"


def browser_flow(url: str, decisions: int) -> tuple[float, list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.test_grade_browser import wait_idle

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url + "/review?reviewer=bench")
        page.get_by_role("button", name="Generate").click(timeout=60_000)
        start = time.perf_counter()
        page.get_by_text("new pending queries").wait_for(timeout=300_000)
        generated = time.perf_counter() - start
        page.goto(url + "/review?reviewer=bench")
        item = page.locator(ITEM)
        item.wait_for(timeout=60_000)
        page.locator("h1").first.click()  # focus the page, not an input
        shown, ready = [], []
        for key in (KEYS * (decisions // len(KEYS) + 1))[:decisions]:
            before = item.inner_text() if item.count() else ""
            start = time.perf_counter()
            page.keyboard.press(key)
            if key == "u":
                page.get_by_text("Undone").wait_for(timeout=30_000)
            else:
                page.wait_for_function(
                    "prev => { const e = document.querySelector('[data-testid=review-query]'); return !e || e.innerText !== prev; }",
                    arg=before, polling="raf", timeout=30_000)
            shown.append(time.perf_counter() - start)
            wait_idle(page)  # a key pressed while the rerun is still finishing can be lost
            ready.append(time.perf_counter() - start)
        browser.close()
    return generated, shown, ready


def store_side(store: Store, ids: list[str]) -> list[float]:
    times = []
    for query_id in ids:
        start = time.perf_counter()
        review.approve(store, "bench-store", query_id)
        times.append(time.perf_counter() - start)
    return times


def raw_side(uri: str, ids: list[str]) -> list[float]:
    """core.labeling.review.approve's writes with LanceDB alone (no claim check, no undo on failure)."""
    import lancedb
    import pyarrow as pa

    db = lancedb.connect(uri)
    queries, events = db.open_table("queries"), db.open_table("events")
    times = []
    for query_id in ids:
        start = time.perf_counter()
        key = f"query_id = '{query_id}'"
        row = queries.search().where(key).limit(1).to_arrow().to_pylist()[0]
        row.update(status="approved", reviewer="bench-raw", reviewed_at=now())
        (queries.merge_insert("query_id").when_matched_update_all(where="target.status = 'pending'").when_not_matched_insert_all()
         .execute(pa.Table.from_pylist([row], schema=queries.schema)))
        queries.search().where(key).select(["reviewer", "reviewed_at", "status"]).limit(1).to_pandas()
        event = Event(event_id=uuid.uuid4().hex, at=now(), actor="bench-raw", action="approve", target=f"query:{query_id}")
        events.add(pa.Table.from_pylist([event.model_dump()], schema=events.schema))
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=len(KEYS))
    args = parser.parse_args()

    from tests.conftest import start_app, stop_app

    workspace = str(Path(tempfile.mkdtemp(prefix="review-bench-")) / "workspace")
    store = Store(Settings.from_env(workspace).db_uri)
    load_demo(store)
    process, url = start_app(workspace)
    try:
        generated, shown, ready = browser_flow(url, args.decisions)
    finally:
        stop_app(process)
    mine = store.read("queries", where={"reviewer": "bench"}, columns=["status"])["status"].value_counts().to_dict()
    print(f"offline generator, 20 queries through the Generate button: {generated:.1f} s")
    print(summary("key press → next review item on screen (stored before it shows)", shown))
    print(summary("key press → page ready for the next key", ready))
    print(f"stored for reviewer 'bench': {mine}")
    print(review.review_summary(store).to_string(index=False))

    docs = select_documents(store, 60, seed=1)
    ids = generate(store, OfflineGenerator(1), docs, limit=40).written
    flywheel, raw = store_side(store, ids[:20]), raw_side(store.uri, ids[20:40])
    print(summary("store side of one approval (core.labeling.review.approve)", flywheel))
    print(summary("raw LanceDB doing the same read, guarded merge_insert, read-back and event", raw))
    print(f"ratio flywheel / raw LanceDB (medians): {statistics.median(flywheel) / statistics.median(raw):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
