"""100,000 documents: import, embedding, vector index, full-text and hybrid search, grading and Home.

    python bench/scale.py [--docs 100000] [--judgments 100000] [--embed-sample 256] [--embed-docs 0] [--embed-kill]
        [--queries 50] [--presses 12] [--think 0]

1. Writes a generated BEIR corpus and imports it with `flywheel import` in a child process:
   wall time and the child's peak RSS (target <= 4 GB).
2. Embedding throughput of the bundled MiniLM through `ensure_corpus_embeddings` on a sample,
   extrapolated to the whole corpus (said so in the output). With `--embed-docs N`, real embedding
   as a user runs it: what `flywheel embed` runs, in a child process, on the first N generated documents (the
   bundled model, the inference precision: bf16 autocast where native; longest first, batches of
   64, written every 4,096), its docs/s and peak RSS; with `--embed-kill` a first run is killed once
   it wrote its first part, and the second embeds only the rest. Then the time to the first
   search in a fresh process (model load, corpus check, query embedding, vector search), and the
   docs/s extrapolated to `--docs` (said so in the output).
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


def peak_rss_mb(process: subprocess.Popen, stop=None) -> tuple[float, bool]:
    """The child's peak RSS, sampled every 0.2 s until it exits (or is killed once `stop()` is true)."""
    import psutil

    child, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            peak = max(peak, child.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if stop is not None and stop():
            process.kill()  # as a crash or a closed laptop would: no clean shutdown
            process.wait()
            return peak / 2**20, True
        time.sleep(0.2)
    return peak / 2**20, False


# What `flywheel embed` runs, with the model load and the embedding timed apart.
EMBED_CHILD = """import json, sys, time
from core.search.models import Embedder
from core.search.retrieval import ensure_corpus_embeddings
from core.settings import Settings
from core.storage.store import Store
store, started = Store(Settings(workspace=sys.argv[1]).db_uri), time.perf_counter()
embedder = Embedder()
loaded = time.perf_counter()
embedded = ensure_corpus_embeddings(store, embedder)
print(json.dumps({"model_key": embedder.key, "precision": embedder.precision, "embedded": embedded,
                  "rows": store.count(store.embeddings_name(embedder.key)), "model_load_s": round(loaded - started, 2),
                  "embed_s": round(time.perf_counter() - loaded, 2)}))
"""
# A fresh process's first search: model load, the corpus check (every document read and hashed), the query, the vector search.
FIRST_SEARCH_CHILD = """import json, sys, time
started = time.perf_counter()
from core.search.models import Embedder
from core.search.retrieval import search
from core.settings import Settings
from core.storage.store import Store
store, embedder = Store(Settings(workspace=sys.argv[1]).db_uri), Embedder()
loaded = time.perf_counter()
hits = search(store, embedder, "claim appeal deductible", 10, "vector")
done = time.perf_counter()
print(json.dumps({"imports_and_model_load_s": round(loaded - started, 2), "first_search_s": round(done - loaded, 2),
                  "total_s": round(done - started, 2), "hits": len(hits)}))
"""


def real_embedding(tmp: Path, docs: int, total: int, kill: bool) -> dict:
    """What `flywheel embed` runs, on the first `docs` generated documents in a child process: throughput, peak RSS,
    resume after a kill, time to the first search; docs/s extrapolated to `total` documents."""
    from core.settings import Settings
    from core.storage.store import Store

    folder, workspace = tmp / f"corpus-{docs}", str(tmp / f"embed-{docs}")
    write_corpus(folder, docs)  # the same seed: the first `docs` documents of the big corpus
    import_corpus(workspace, folder)
    command = [sys.executable, "-c", EMBED_CHILD, workspace]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    store = Store(Settings(workspace=workspace).db_uri)
    result: dict = {"docs": docs}
    if kill:
        def rows() -> int:
            names = [n for n in store.table_names() if n.startswith("embeddings_")]
            return store.count(names[0]) if names else 0

        started = time.perf_counter()
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak, killed = peak_rss_mb(first, lambda: rows() > 0)
        result["killed_run"] = {"killed_after_s": round(time.perf_counter() - started, 1), "killed": killed, "rows_kept": rows(),
                                "peak_rss_mb": round(peak)}
    with tempfile.TemporaryFile("w+") as err:  # a file, not a pipe: a full pipe would stall the child while it is sampled
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        peak, _ = peak_rss_mb(second)
        out = second.stdout.read()
        if second.returncode:
            err.seek(0)
            raise RuntimeError(err.read()[-2000:])
    done = json.loads(out.strip().splitlines()[-1])
    embedded, seconds = done["embedded"], done["embed_s"]
    if "killed_run" in result:  # the longest documents went first, so the rest alone would flatter the rate: count both runs
        # The killed run's embedding time: its wall time less a model load as long as the second run's (approximate).
        embedded += result["killed_run"]["rows_kept"]
        seconds += max(0.0, result["killed_run"]["killed_after_s"] - done["model_load_s"])
    rate = embedded / seconds if embedded and seconds else 0.0
    result |= {"run": done, "peak_rss_mb": round(peak), "docs_per_s": round(rate, 1)}
    if rate:
        result["extrapolated_to"] = {"docs": total, "hours": round(total / rate / 3600, 2), "note": f"from {embedded} documents embedded here"}
    first_search = subprocess.run([sys.executable, "-c", FIRST_SEARCH_CHILD, workspace], cwd=ROOT, env=env, capture_output=True, text=True)
    if first_search.returncode:
        raise RuntimeError(first_search.stderr[-2000:])
    result["time_to_first_search"] = json.loads(first_search.stdout.strip().splitlines()[-1])
    print(f"real embedding ({docs} documents, ensure_corpus_embeddings in a child process):", json.dumps(result), flush=True)
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
    parser.add_argument("--embed-docs", type=int, default=0, help="real `flywheel embed` of this many generated documents (0: skip)")
    parser.add_argument("--embed-kill", action="store_true", help="--embed-docs: kill the first embed once it wrote its first part, then resume")
    parser.add_argument("--only-embed", action="store_true", help="run the --embed-docs step alone")
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
    if args.embed_docs:
        embedded = real_embedding(tmp, args.embed_docs, args.docs, args.embed_kill)
        if args.only_embed:
            print(f"load after: {os.getloadavg()}", flush=True)
            print(json.dumps({"real_embedding": embedded}))
            return 0
    settings = Settings(workspace=str(tmp / "workspace"))
    write_corpus(tmp / "corpus", args.docs)
    report = {"import": import_corpus(settings.workspace, tmp / "corpus")}
    if args.embed_docs:
        report["real_embedding"] = embedded
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
