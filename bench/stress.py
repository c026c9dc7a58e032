"""Many reviewers at once, the long version of tests/test_stress.py: acknowledged vs stored.

Per run, on a fresh copy of the demo workspace:
- N grader processes (tests/stress_worker.py: the Grade page's own calls — next_query,
  candidates, grade, release — 10% re-grades), real contention, no injected faults unless asked;
- one grader is SIGKILLed half-way and a new process for the same reviewer carries on;
- the app server is started, opened in Chromium on /grade (so it opens the workspace) and
  SIGKILLed, then started again;
- an import (Cranfield, id prefix) runs beside the graders and must land whole;
- a second import (CISI) is SIGKILLed once it has written documents, and must be gone after
  the next open, which says so.
Prints one JSON line per run and a summary: lost, reverted, duplicated must be 0.

    python bench/stress.py --runs 5 --graders 5 --grades 300
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.settings import Settings  # noqa: E402
from core.storage.demo import load_demo  # noqa: E402
from core.storage.store import Store  # noqa: E402
from tests.conftest import SHARED, start_app  # noqa: E402
from tests.stress_worker import collect, compare  # noqa: E402

WORKER = ROOT / "tests" / "stress_worker.py"
CLI = [sys.executable, "-m", "core.commands.main"]


class Proc:
    """A child process whose stdout is read line by line as it comes (so a kill loses nothing said)."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.err = ""
        self._out = threading.Thread(target=self._read, daemon=True)
        self._out.start()
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._err.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def _read_err(self) -> None:
        self.err = self.process.stderr.read()

    def acks(self) -> int:
        return sum('"ack"' in line for line in self.lines)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.wait()

    def wait(self, timeout: float | None = None) -> int:
        code = self.process.wait(timeout=timeout)
        self._out.join()
        self._err.join()
        return code

    def output(self) -> str:
        return "".join(self.lines)


def grader(uri: str, reviewer: str, grades: int, seed: int, conflict_rate: float) -> Proc:
    return Proc([sys.executable, str(WORKER), uri, reviewer, "--grades", str(grades), "--seed", str(seed),
                 "--conflict-rate", str(conflict_rate)])


def open_in_browser(url: str) -> None:
    """Load /grade in headless Chromium so the server runs the app and opens the workspace."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(url + "/grade")
        page.wait_for_timeout(4000)
        browser.close()


def one_run(number: int, graders: int, grades: int, conflict_rate: float, datasets: Path) -> dict:
    started = time.time()
    with tempfile.TemporaryDirectory() as scratch:
        workspace = str(Path(scratch) / "ws")
        uri = Settings(workspace=workspace).db_uri
        load_demo(Store(uri))
        cli_env = {"FLYWHEEL_WORKSPACE": workspace}
        procs = {f"reviewer-{i}": grader(uri, f"reviewer-{i}", grades, 1000 * number + i, conflict_rate) for i in range(graders)}
        beside = Proc([*CLI, "import", str(datasets / "cranfield"), "--name", "beside", "--id-prefix", "b:"], cli_env)
        doomed = Proc([*CLI, "import", str(datasets / "cisi"), "--name", "doomed", "--id-prefix", "k:"], cli_env)
        watcher = Store(uri)
        killed_import = "finished before the kill"
        while doomed.process.poll() is None:
            if watcher.count("documents", "source = 'doomed'") > 0:
                doomed.kill()
                killed_import = "killed after writing documents"
                break
            time.sleep(0.05)
        server, url = start_app(workspace)
        open_in_browser(url)
        server.send_signal(signal.SIGKILL)
        server.wait()
        server, url = start_app(workspace)  # starts again on the same workspace

        victim, finished = procs["reviewer-0"], []
        while victim.process.poll() is None and victim.acks() < grades // 2:
            time.sleep(0.2)
        victim.kill()
        finished.append(collect("reviewer-0", victim.output()))
        rest = grades - victim.acks()
        procs["reviewer-0"] = grader(uri, "reviewer-0", rest, 1000 * number + 99, conflict_rate)

        for reviewer, proc in procs.items():
            if proc.wait(timeout=3600) != 0:
                raise RuntimeError(f"{reviewer} failed: {proc.err[-2000:]}")
            finished.append(collect(reviewer, proc.output()))
        if beside.wait(timeout=3600) != 0:
            raise RuntimeError(f"the import beside failed: {beside.err[-2000:]}")
        server.send_signal(signal.SIGKILL)
        server.wait()

        reopened = Store(uri)
        merged: dict[str, dict] = {}  # the killed grader and its successor are one reviewer
        for result in finished:
            into = merged.setdefault(result["reviewer"], {"reviewer": result["reviewer"]})
            for kind in ("acked", "handed", "released", "failed"):
                into[kind] = into.get(kind, []) + result[kind]
        report = compare(reopened, list(merged.values()))
        beside_docs = reopened.count("documents", "source = 'beside'")
        expected_docs = sum(1 for line in open(datasets / "cranfield" / "corpus.jsonl") if line.strip())
        report.update({
            "run": number,
            "import_beside": "whole" if beside_docs == expected_docs else f"{beside_docs} of {expected_docs} documents",
            "killed_import": killed_import,
            "killed_import_rows_left": sum(reopened.count(t, f"{c} LIKE 'k:%'") for t, c in
                                           (("documents", "doc_id"), ("queries", "query_id"), ("judgments", "query_id"))),
            "rollbacks_logged": reopened.count("events", "action = 'rollback'"),
            "journal_left": reopened.count("journal"),
            "wall_s": round(time.time() - started, 1),
        })
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--graders", type=int, default=5)
    parser.add_argument("--grades", type=int, default=300)
    parser.add_argument("--conflict-rate", type=float, default=0.0, help="inject write conflicts on this share of writes")
    parser.add_argument("--datasets", type=Path, default=SHARED)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", file=sys.stderr)
    reports = []
    for number in range(1, args.runs + 1):
        report = one_run(number, args.graders, args.grades, args.conflict_rate, args.datasets)
        print(json.dumps(report), flush=True)
        reports.append(report)
    keys = ("acknowledged", "lost", "reverted", "duplicated", "events_lost", "events_extra", "held_by_two", "killed_import_rows_left")
    print(json.dumps({"runs": len(reports), **{k: sum(r[k] for r in reports) for k in keys}, "load_after": os.getloadavg()}))


if __name__ == "__main__":
    main()
