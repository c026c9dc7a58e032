"""100,000 documents: import, embedding, vector index, full-text and hybrid search, grading and Home.

    python bench/scale.py [--docs 100000] [--judgments 100000] [--embed-sample 256] [--queries 50] [--presses 12] [--think 0]

1. Writes a generated BEIR corpus and imports it with `flywheel import` in a child process:
   wall time and the child's peak RSS (target <= 4 GB).
2. Embedding throughput of the bundled MiniLM through `ensure_corpus_embeddings` on a sample,
   extrapolated to the whole corpus (said so in the output).
3. Stores one vector per document (synthetic, clustered, unit length: embedding 100,000
   documents on a shared 2-core machine takes hours) under the model's key with each
   document's real text hash, so the app treats them as current. Exact search latency, then the
   approximate index the store builds by itself above VECTOR_INDEX_ABOVE: build time, latency and
   recall@10 against exact search.
4. Full-text (BM25) index build and query latency; hybrid search latency (query embedding included).
5. With `--judgments` judgments and their events stored: server time of a grade key -> next document
   (the Grade page's whole rerun, callback included, in Streamlit's AppTest: presses within a query
   and presses that open the next query apart; target <= 150 ms; `--think` seconds of reading before each
   press, when the page prefetches the next query) and of Home's rerun; then the same
   in headless Chromium, client-observed (an upper bound on server time), and Home until its
   content shows (target <= 1.5 s).

The script runs with the app server's environment (ui/launch.py's SERVER_ENVIRONMENT), as steps
4 and 5 time what the server runs. Absolute times depend on the machine and its load: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from common import ROOT

from ui.launch import server_environment

server_environment()  # as `flywheel app` serves (OpenMP threads sleep when idle), before torch loads: search and the reruns run here

WORDS = ("plan deductible copay claim appeal dependent network coverage premium referral pharmacy vision dental therapy "
         "emergency urgent specialist primary preventive screening vaccine maternity newborn spouse enrollment renewal waiver "
         "exception formulary tier generic brand mail order telehealth invoice refund portal password account statement balance "
         "provider hospital clinic laboratory imaging surgery prescription allergy diabetes asthma cardiology orthopedic").split()


def p50_p90(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1)}


def write_corpus(folder: Path, docs: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as out:
        for i in range(docs):
            record = {"_id": f"d{i:06d}", "title": " ".join(rng.sample(WORDS, 4)).title(), "text": " ".join(rng.choices(WORDS, k=rng.randint(40, 120)))}
            out.write(json.dumps(record) + "\n")


def import_corpus(workspace: str, folder: Path) -> dict:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "core.commands.main", "--workspace", workspace, "import", str(folder / "corpus.jsonl")], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    result = {"wall_s": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_kib / 1024), "earlier_children_peak_mb": round(before / 1024)}
    print("import:", json.dumps(result), flush=True)
    return result


def embed_throughput(store, embedder, sample: int, total: int) -> dict:
    from core.search.models import document_text

    docs = store.read("documents", columns=["title", "text"], limit=sample)
    texts = [document_text(t, x) for t, x in zip(docs["title"], docs["text"])]
    embedder.encode_documents(texts[:32])  # warm-up
    start = time.perf_counter()
    embedder.encode_documents(texts)
    elapsed = time.perf_counter() - start
    rate = len(texts) / elapsed
    result = {"sample_docs": len(texts), "docs_per_s": round(rate, 1), "extrapolated_full_corpus_min": round(total / rate / 60, 1)}
    print("embedding (sample, extrapolated):", json.dumps(result), flush=True)
    return result


def store_vectors(store, embedder, seed: int = 0, clusters: int = 200) -> None:
    """One synthetic unit vector per document, clustered like real embeddings, with the real text hash."""
    import numpy as np

    from core.search.models import document_text
    from core.search.retrieval import text_hash

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, embedder.dim)).astype(np.float32)
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    store.ensure_embeddings(embedder.key, embedder.dim)
    table = store.table(store.embeddings_name(embedder.key))
    for start in range(0, len(docs), 20_000):
        part = docs.iloc[start : start + 20_000]
        vectors = centres[rng.integers(0, clusters, len(part))] + 0.6 * rng.normal(size=(len(part), embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [{"doc_id": d, "text_hash": text_hash(document_text(t, x)), "vector": v}
                for d, t, x, v in zip(part["doc_id"], part["title"], part["text"], vectors)]
        table.add(rows)


def vector_index(store, embedder, queries: int, seed: int = 1) -> dict:
    import numpy as np

    name = store.embeddings_name(embedder.key)
    table = store.table(name)
    sample = store.read(name, columns=["vector"], limit=queries)
    rng = np.random.default_rng(seed)
    probes = np.vstack(sample["vector"].to_numpy()) + 0.3 * rng.normal(size=(len(sample), embedder.dim))
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)

    def timed(search) -> tuple[list[set[str]], list[float]]:
        hits, times = [], []
        for vector in probes:
            start = time.perf_counter()
            hits.append(set(search(vector)))
            times.append(time.perf_counter() - start)
        return hits, times

    exact, exact_times = timed(lambda v: table.search(v.tolist()).metric("cosine").bypass_vector_index().select(["doc_id", "_distance"]).limit(10).to_pandas()["doc_id"])
    start = time.perf_counter()
    built = store.ensure_vector_index(embedder.key)
    build_s = time.perf_counter() - start
    approx, approx_times = timed(lambda v: store.vector_search(embedder.key, v, 10)["doc_id"])
    recall = statistics.mean(len(a & e) / 10 for a, e in zip(approx, exact))
    result = {"rows": store.count(name), "index": store.vector_index(embedder.key), "built_automatically": built, "build_s": round(build_s, 1),
              "exact": p50_p90(exact_times), "approximate": p50_p90(approx_times), "recall@10_vs_exact": round(recall, 3)}
    print("vector index:", json.dumps(result), flush=True)
    return result


def text_search(store, embedder, queries: int, seed: int = 2) -> dict:
    from core.search.retrieval import ensure_corpus_embeddings, search

    start = time.perf_counter()
    store.ensure_fts_index()
    fts_build = time.perf_counter() - start
    start = time.perf_counter()
    embedded = ensure_corpus_embeddings(store, embedder)
    ensure_s = time.perf_counter() - start
    rng = random.Random(seed)
    texts = [" ".join(rng.sample(WORDS, 3)) for _ in range(queries)]
    out = {"fts_build_s": round(fts_build, 1), "ensure_corpus_embeddings_s": round(ensure_s, 2), "re_embedded": embedded}
    for mode in ("full-text", "vector", "hybrid"):
        times = []
        for text in texts:
            start = time.perf_counter()
            search(store, embedder, text, 10, mode)
            times.append(time.perf_counter() - start)
        out[mode] = p50_p90(times)
    print("search (retrieval.search, top 10, documents joined):", json.dumps(out), flush=True)
    return out


def add_judgments(store, judgments: int, per_query: int = 10, fresh: int = 200, seed: int = 3) -> None:
    from core.storage.schemas import Event, Judgment, Query, QueryStatus, now

    rng = random.Random(seed)
    stamp = now()
    graded = judgments // per_query
    store.add("queries", [Query(query_id=f"q{i:06d}", text=" ".join(rng.sample(WORDS, 4)), status=QueryStatus.approved.value,
                                created_at=stamp + timedelta(microseconds=i)) for i in range(graded + fresh)])
    docs = store.count("documents")
    for start in range(0, judgments, 50_000):
        rows, events = [], []
        for n in range(start, min(judgments, start + 50_000)):
            qid, reviewer, doc = f"q{n // per_query:06d}", f"r{(n // per_query) % 5}", f"d{(n * 7919) % docs:06d}"
            at = stamp - timedelta(seconds=judgments - n)
            rows.append(Judgment(query_id=qid, doc_id=doc, reviewer=reviewer, grade=rng.randint(0, 5), created_at=at, updated_at=at))
            events.append(Event(event_id=uuid.uuid4().hex, at=at, actor=reviewer, action="grade", target=f"judgment:{qid}/{doc}"))
        store.add("judgments", rows)
        store.add("events", events)
    for name in ("judgments", "events", "queries"):
        store.compact(name)


def server_latency(workspace: str, presses: int, switches_n: int = 5, think: float = 0.0) -> dict:
    """Server time: one Grade rerun per key press (on_grade's write, then the page script) and Home's rerun,
    run by Streamlit's AppTest in this process (no browser, no websocket). `think` seconds pass before each
    timed press, as a reviewer reads the document (the page prefetches the next query meanwhile)."""
    from streamlit.testing.v1 import AppTest

    os.environ["FLYWHEEL_WORKSPACE"] = workspace

    def query_on_screen(at) -> str:
        return next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1]

    at = AppTest.from_file(str(ROOT / "pages" / "grade.py"), default_timeout=600)
    at.session_state["reviewer"], at.session_state["g_mode"] = "bench-server", "hybrid"
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    for n in range(2):  # warm-up
        at.button(key=f"grade_{n}").click().run()
    within, across = [], []
    for n in range(presses):
        before = query_on_screen(at)
        time.sleep(think)
        start = time.perf_counter()
        at.button(key=f"grade_{n % 6}").click().run()
        (within if query_on_screen(at) == before else across).append(time.perf_counter() - start)
    half = query_on_screen(at)
    at.button(key="g_query").click().run()  # q on a half-graded query asks first, the second q leaves it (untimed)
    if query_on_screen(at) == half:
        at.button(key="g_query").click().run()
    switches = []
    for _ in range(switches_n):  # q on an untouched query: the query-switch path alone (queue, claim, candidates)
        before = query_on_screen(at)
        time.sleep(think)
        start = time.perf_counter()
        at.button(key="g_query").click().run()
        switches.append(time.perf_counter() - start)
        if query_on_screen(at) == before:
            raise RuntimeError(f"q did not open another query than {before}")
    home = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=600)
    home_times = []
    for _ in range(3):
        start = time.perf_counter()
        home.run()
        home_times.append(time.perf_counter() - start)
    result = {"grade_key_to_next_document_same_query": p50_p90(within), "grade_key_to_next_query": [round(t * 1000) for t in across],
              "q_key_to_next_query": p50_p90(switches),
              "grade_all": p50_p90(within + across), "home_rerun_s": [round(t, 2) for t in home_times]}
    print("server (AppTest reruns):", json.dumps(result), flush=True)
    return result


def browser_latency(workspace: str, presses: int) -> dict:
    from playwright.sync_api import sync_playwright
    from raw_ratio import press_times

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_app
    from tests.test_grade_browser import open_grade_page

    process, url = start_app(workspace)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = open_grade_page(browser, url, "bench")
            press_times(page, 2)  # warm-up
            grade = press_times(page, presses)
            home_times = []
            for _ in range(3):
                home = browser.new_page(viewport={"width": 1400, "height": 1000})
                start = time.perf_counter()
                home.goto(url + "/")
                home.locator("h1").first.wait_for(timeout=120_000)
                home.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
                home_times.append(time.perf_counter() - start)
                home.close()
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    result = {"grade_key_to_next_document": p50_p90(grade), "home_until_idle_s": [round(t, 2) for t in home_times]}
    print("browser:", json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--embed-sample", type=int, default=256)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--presses", type=int, default=12)
    parser.add_argument("--think", type=float, default=0.0, help="seconds before each timed Grade press (reading time)")
    parser.add_argument("--skip", default="", help="comma-separated: browser (the judgments, server and browser steps), grade-browser (the browser step alone)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from core.search.models import Embedder
    from core.settings import Settings
    from core.storage.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="flywheel-scale-"))
    print(f"load: {os.getloadavg()}, cpus: {os.cpu_count()}, workspace: {tmp}", flush=True)
    settings = Settings(workspace=str(tmp / "workspace"))
    write_corpus(tmp / "corpus", args.docs)
    report = {"import": import_corpus(settings.workspace, tmp / "corpus")}
    store = Store(settings.db_uri)
    embedder = Embedder()
    report["embedding"] = embed_throughput(store, embedder, args.embed_sample, args.docs)
    store_vectors(store, embedder)
    report["vector_index"] = vector_index(store, embedder, args.queries)
    report["search"] = text_search(store, embedder, args.queries)
    skip = set(args.skip.split(","))
    if "browser" not in skip:
        add_judgments(store, args.judgments)
        report["server"] = server_latency(settings.workspace, args.presses, think=args.think)
        if "grade-browser" not in skip:
            report["browser"] = browser_latency(settings.workspace, args.presses)
    print(f"load after: {os.getloadavg()}", flush=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
