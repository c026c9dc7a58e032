"""One hard-negative decision end to end in the browser, on the demo data (target: ≤ 300 ms).

    python bench/hard_negative_latency.py [--decisions 30]

Loads the demo into a throwaway workspace, serves the app, opens Hard negatives in headless
Chromium, mines candidates (the Mine button), then decides from the keyboard alone (h = hard
negative, n = not one, alternating). Prints the time from each key press until the next
candidate is on screen (the decision is stored before it shows) and until the page is ready for
the next key, what was stored, and the store side of one confirm
(core.labeling.hardnegatives.confirm) as a ratio of raw LanceDB doing the same read, event
appends and merge_insert in the same run.
"""

from __future__ import annotations

import argparse
import json
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

from core.labeling import hardnegatives  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage.demo import load_demo  # noqa: E402
from core.storage.schemas import Event, Judgment, now  # noqa: E402
from core.storage.store import Store  # noqa: E402

CARD = "[class*=st-key-hn_card]"


def browser_flow(url: str, decisions: int) -> tuple[float, list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.test_grade_browser import wait_idle

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url + "/hard_negatives?reviewer=bench")
        page.get_by_role("button", name="Mine candidates").click(timeout=60_000)
        start = time.perf_counter()
        card = page.locator(CARD)
        card.wait_for(timeout=600_000)
        mined = time.perf_counter() - start
        wait_idle(page)
        page.locator("h1").first.click()  # focus the page, not an input
        shown, ready = [], []
        for i in range(decisions):
            before = card.inner_text()
            start = time.perf_counter()
            page.keyboard.press("h" if i % 2 == 0 else "n")
            page.wait_for_function(
                "prev => { const e = document.querySelector('[class*=st-key-hn_card]'); return !e || e.innerText !== prev; }",
                arg=before, polling="raf", timeout=30_000)
            shown.append(time.perf_counter() - start)
            wait_idle(page)  # a key pressed while the rerun is still finishing can be lost
            ready.append(time.perf_counter() - start)
            if not card.count():
                break
        browser.close()
    return mined, shown, ready


def store_side(store: Store, pairs: list[tuple[str, str]]) -> list[float]:
    times = []
    for query_id, doc_id in pairs:
        start = time.perf_counter()
        hardnegatives.confirm(store, "bench-store", query_id, doc_id)
        times.append(time.perf_counter() - start)
    return times


def raw_side(uri: str, pairs: list[tuple[str, str]]) -> list[float]:
    """hardnegatives.confirm's writes with LanceDB alone (no undo record on failure, no retry)."""
    import lancedb
    import pyarrow as pa

    db = lancedb.connect(uri)
    judgments, events = db.open_table("judgments"), db.open_table("events")
    times = []
    for query_id, doc_id in pairs:
        start = time.perf_counter()
        key = f"query_id = '{query_id}' AND doc_id = '{doc_id}' AND reviewer = 'bench-raw'"
        judgments.search().where(key).limit(1).to_arrow()
        stamp = now()
        grade = Event(event_id=uuid.uuid4().hex, at=stamp, actor="bench-raw", action="grade", target=f"judgment:{query_id}/{doc_id}",
                      detail=json.dumps({"grade": 0, "hard_negative": True}))
        events.add(pa.Table.from_pylist([grade.model_dump()], schema=events.schema))
        row = Judgment(query_id=query_id, doc_id=doc_id, reviewer="bench-raw", grade=0, hard_negative=True, created_at=stamp, updated_at=stamp)
        (judgments.merge_insert(["query_id", "doc_id", "reviewer"]).when_matched_update_all().when_not_matched_insert_all()
         .execute(pa.Table.from_pylist([row.model_dump()], schema=judgments.schema)))
        confirm = Event(event_id=uuid.uuid4().hex, at=now(), actor="bench-raw", action=hardnegatives.CONFIRM,
                        target=f"judgment:{query_id}/{doc_id}")
        events.add(pa.Table.from_pylist([confirm.model_dump()], schema=events.schema))
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=30)
    args = parser.parse_args()

    from tests.conftest import start_app, stop_app

    workspace = str(Path(tempfile.mkdtemp(prefix="hn-bench-")) / "workspace")
    store = Store(Settings.from_env(workspace).db_uri)
    load_demo(store)
    process, url = start_app(workspace)
    try:
        mined, shown, ready = browser_flow(url, args.decisions)
    finally:
        stop_app(process)
    stored = store.read("events", where={"actor": "bench"}, columns=["action"])["action"].value_counts().to_dict()
    print(f"Mine candidates (first visit, embeds the corpus): {mined:.1f} s")
    print(summary("key press → next candidate on screen (stored before it shows)", shown))
    print(summary("key press → page ready for the next key", ready))
    print(f"stored for reviewer 'bench': {stored}")

    pairs = store.read("judgments", columns=["query_id", "doc_id"]).drop_duplicates().head(40)
    pairs = list(zip(pairs["query_id"], pairs["doc_id"], strict=True))
    flywheel, raw = store_side(store, pairs[:20]), raw_side(store.uri, pairs[20:40])
    print(summary("store side of one confirm (core.labeling.hardnegatives.confirm)", flywheel))
    print(summary("raw LanceDB doing the same read, two event appends and merge_insert", raw))
    print(f"ratio flywheel / raw LanceDB (medians): {statistics.median(flywheel) / statistics.median(raw):.2f}")
    print(json.dumps({"shown_median_ms": round(statistics.median(shown) * 1000), "store_ratio":
                      round(statistics.median(flywheel) / statistics.median(raw), 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
