"""What one idle open tab costs the app server, per page.

    python bench/idle_cpu.py [--seconds 30] [--pages home,grade] [--no-run]

Loads the demo into a throwaway workspace (and trains a quick adapter run, so Train and
Results have something to show; --no-run skips it), serves the app as `flywheel app` does,
opens each page in headless Chromium, waits until the page has finished rendering, then
measures the CPU time of the server process over --seconds with nothing clicked. Prints the
share of one core per page, and the same measurement for a one-line Streamlit app served the
same way in the same run (the raw library's floor), with the ratio. Target: ≤ 1% of a core.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {"home": "/", "data": "/data", "review": "/review", "grade": "/grade", "hard_negatives": "/hard_negatives",
         "agreement": "/agreement", "train": "/train", "results": "/results"}
HELLO = "import streamlit as st\nst.write('hello')\n"
TARGET = 0.01


def server_cpu_s(process) -> float:
    """User + system CPU seconds of the server and its children."""
    import psutil

    proc = psutil.Process(process.pid)
    total = sum(proc.cpu_times()[:2])
    for child in proc.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def idle_share(browser, process, url: str, seconds: float) -> float:
    """Open url, let it settle, then the server's CPU share of one core while the tab sits idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.locator("[data-testid=stApp]").wait_for(timeout=120_000)
    settle(page, process)
    start_cpu, start = server_cpu_s(process), time.perf_counter()
    time.sleep(seconds)
    share = (server_cpu_s(process) - start_cpu) / (time.perf_counter() - start)
    page.close()
    return share


def settle(page, process, quiet: float = 0.05, limit_s: float = 120.0) -> None:
    """Until the page has finished its first run (the app root says its script is not running, no spinner, for 3 s
    in a row), then (at most
    limit_s) until the server is quiet, so a slow first render is not counted as idle cost."""
    done = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    calm = 0
    while calm < 3:
        done.wait_for(timeout=600_000)
        time.sleep(1.0)
        calm = calm + 1 if done.count() and not page.locator("[data-testid=stSpinner]").count() else 0
    deadline = time.perf_counter() + limit_s
    while time.perf_counter() < deadline:
        before = server_cpu_s(process)
        time.sleep(2.0)
        if (server_cpu_s(process) - before) / 2.0 < quiet:
            return


def start_hello(tmp: Path):
    from tests.conftest import free_port

    script = tmp / "hello.py"
    script.write_text(HELLO)
    port = free_port()
    from ui.launch import SERVER_OPTIONS

    args = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless", "true"]
    for name, value in SERVER_OPTIONS.items():
        args += [f"--{name}", value]
    process = subprocess.Popen(args, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(200):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return process, url
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("hello app did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--no-run", action="store_true", help="skip the quick adapter run")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from core.settings import Settings
    from core.storage.demo import load_demo
    from core.storage.store import Store
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

    tmp = Path(tempfile.mkdtemp(prefix="flywheel-idle-"))
    workspace = str(tmp / "workspace")
    store = Store(Settings.from_env(workspace).db_uri)
    load_demo(store)
    if not args.no_run:
        from core.storage.splits import assign_splits
        from core.training.config import TrainConfig
        from core.training.run import launch

        assign_splits(store)
        launch(store, Settings.from_env(workspace), TrainConfig(kind="adapter", max_steps=20), background=False)

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        hello, hello_url = start_hello(tmp)
        try:
            floor = idle_share(browser, hello, hello_url, args.seconds)
        finally:
            stop_app(hello)
        process, url = start_app(workspace)
        try:
            for name in args.pages.split(","):
                share = idle_share(browser, process, f"{url}{PAGES[name]}?reviewer=bench", args.seconds)
                rows.append((name, share))
                print(f"{name:15s} {share:6.2%} of a core  (raw Streamlit hello app {floor:.2%}; ratio "
                      f"{share / floor if floor else float('inf'):.1f}){'' if share <= TARGET else '  ABOVE TARGET'}", flush=True)
        finally:
            stop_app(process)
        browser.close()
    worst = max(rows, key=lambda r: r[1])
    print(f"\nworst page: {worst[0]} {worst[1]:.2%} of a core over {args.seconds:.0f} s idle; target ≤ {TARGET:.0%}: "
          f"{'met' if worst[1] <= TARGET else 'NOT met'}")
    print(f"load average during the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
