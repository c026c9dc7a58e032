"""Shared fixtures: tiny workspaces in tmp dirs, the bundled model, a live app for browser tests."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests compare vectors embedded in different batches at 1e-5, and bf16 autocast's output moves with a batch's
# shape (~1e-4): the suite runs float32 on every CPU, and tests/test_precision.py runs the bf16 path itself.
os.environ.setdefault("FLYWHEEL_PRECISION", "fp32")

import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from core.settings import Settings  # noqa: E402
from core.storage.schemas import Document, Judgment, Query, now  # noqa: E402
from core.storage.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# /work/shared next to the main checkout; a worktree one level deeper finds it one level up
SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", ROOT.parent.parent / "shared" / "datasets") if p.is_dir()),
              ROOT.parent / "shared" / "datasets")
PASSWORD = "a long password"  # every test user's
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SMALL_DOCS = [
    ("d1", "Silver PPO 2025 deductible", "The Silver PPO plan for 2025 has a deductible of $2,000 per person."),
    ("d2", "Silver PPO 2026 deductible", "The Silver PPO plan for 2026 has a deductible of $2,400 per person."),
    ("d3", "Gold HMO 2025 deductible", "The Gold HMO plan for 2025 has a deductible of $750 per person."),
    ("d4", "Prior authorization (PA)", "Some services such as MRI scans need prior authorization before the visit."),
    ("d5", "Physician assistant (PA) visits", "Visits with a physician assistant cost the same copay as a doctor visit."),
    ("d6", "How to submit a claim", "Submit a claim online within 90 days of the service with the itemised bill."),
    ("d7", "How to appeal a denied claim", "File an appeal within 180 days of the denial letter with supporting records."),
    ("d8", "Adding a dependent", "Add a newborn or spouse as a dependent within 30 days of the life event."),
    ("d9", "Removing a dependent", "Remove a dependent who is no longer eligible, for example after a divorce."),
    ("d10", "Health savings account (HSA)", "An HSA pairs with a high-deductible plan; contributions are tax free."),
    ("d11", "Flexible spending account (FSA)", "An FSA is use-it-or-lose-it; the 2025 limit is $3,300."),
    ("d12", "Emergency room (ER) coverage", "Emergency room visits are covered in and out of network after the copay."),
]
SMALL_QUERIES = [
    ("q1", "silver ppo deductible 2025", "train", [("d1", 5), ("d2", 0), ("d3", 1)]),
    ("q2", "do I need a PA for an MRI", "train", [("d4", 5), ("d5", 0)]),
    ("q3", "appeal denied claim deadline", "train", [("d7", 5), ("d6", 1)]),
    ("q4", "add my newborn to my plan", "train", [("d8", 5), ("d9", 0)]),
    ("q5", "what is an HSA", "eval", [("d10", 5), ("d11", 1)]),
    ("q6", "gold hmo deductible", "eval", [("d3", 5), ("d1", 0)]),
    ("q7", "how do I file a claim", "eval", [("d6", 5), ("d7", 1)]),
    ("q8", "ER visit out of network", "eval", [("d12", 4)]),
]


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Settings:
    path = tmp_path / "workspace"
    monkeypatch.setenv("FLYWHEEL_WORKSPACE", str(path))
    return Settings.from_env()


@pytest.fixture
def store(workspace) -> Store:
    return Store(workspace.db_uri)


def fill_small(store: Store) -> Store:
    """12 health-plan documents, 8 queries (4 train, 4 eval) with graded judgments."""
    stamp = now()
    store.add("documents", [Document(doc_id=d, title=t, text=x, source="small") for d, t, x in SMALL_DOCS])
    store.add(
        "queries",
        [Query(query_id=q, text=t, split=s, source="small", created_at=stamp) for q, t, s, _ in SMALL_QUERIES],
    )
    store.add(
        "judgments",
        [
            Judgment(query_id=q, doc_id=d, reviewer="import:small", grade=g, hard_negative=g == 0, created_at=stamp, updated_at=stamp)
            for q, _, _, grades in SMALL_QUERIES
            for d, g in grades
        ],
    )
    store.ensure_fts_index()
    return store


@pytest.fixture
def small_store(store) -> Store:
    return fill_small(store)


@pytest.fixture(scope="session")
def embedder():
    from core.search.models import Embedder

    return Embedder()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(workspace: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run app.py` on a free port against `workspace`; returns (process, url)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "ui" / "launch.py"), "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT,
        env={**os.environ, "FLYWHEEL_WORKSPACE": workspace, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120  # the launcher loads the search model before it serves: ~5 s, far more on a busy machine
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not start within 120 s")


@pytest.fixture
def browser():
    """A headless Debian Chromium through Playwright; skipped when Chromium is missing (failed in CI)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("FLYWHEEL_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser)")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def live_app(small_store, workspace):
    """The app served on a free port over the small workspace; yields its URL."""
    process, url = start_app(workspace.workspace)
    yield url
    stop_app(process)


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def pytest_collection_modifyitems(items) -> None:
    """Under `pytest -n 2 --dist loadgroup` (make test), the tests that start a server or drive
    Chromium run one after another on one worker, and so do the Ray tests: two servers and two
    browsers on a 2-core machine only slow each other down. The rest spread over both workers."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("browser") or fixtures & {"browser", "live_app"}:
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.nodeid.startswith("tests/test_ray.py"):
            item.add_marker(pytest.mark.xdist_group("ray"))
