"""Failed sign-ins per name, shared by every server process: after MAX_FAILURES within WINDOW_S,
further tries for that name wait, longer after each new failure.

A small JSON file beside the users file (mode 600) under an flock, not session state: a new
browser session, tab or server process must not reset the count.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from contextlib import contextmanager

from core.storage.auth import Users

MAX_FAILURES = 5
WINDOW_S = 15 * 60
FIRST_DELAY_S = 30  # after the 5th failure; doubles with each failure after it
MAX_DELAY_S = 3600


class SignInThrottle:
    def __init__(self, users: Users):
        self.path = users.path.with_name(users.path.stem + ".failures.json")

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                failures = json.loads(self.path.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                failures = {}
            yield failures
        finally:
            os.close(fd)

    def _save(self, failures: dict[str, list[float]], now: float) -> None:
        kept = {name: [t for t in times if now - t < WINDOW_S] for name, times in failures.items()}
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps({name: times for name, times in kept.items() if times}))
        os.chmod(scratch, 0o600)
        scratch.replace(self.path)

    @staticmethod
    def _wait(times: list[float], now: float) -> int:
        recent = sorted(t for t in times if now - t < WINDOW_S)
        if len(recent) < MAX_FAILURES:
            return 0
        delay = min(FIRST_DELAY_S * 2 ** (len(recent) - MAX_FAILURES), MAX_DELAY_S)
        return max(0, math.ceil(recent[-1] + delay - now))

    def wait(self, name: str, now: float | None = None) -> int:
        """Seconds before `name` may try again; 0 when a try is allowed now."""
        now = time.time() if now is None else now
        with self._locked() as failures:
            return self._wait(failures.get(name[:64], []), now)

    def failed(self, name: str, now: float | None = None) -> int:
        """Count a failure; returns the wait it brings (0 while under the limit)."""
        now = time.time() if now is None else now
        with self._locked() as failures:
            failures.setdefault(name[:64], []).append(now)
            self._save(failures, now)
            return self._wait(failures[name[:64]], now)

    def succeeded(self, name: str) -> None:
        with self._locked() as failures:
            if failures.pop(name[:64], None) is not None:
                self._save(failures, time.time())


def message(name: str, wait_s: int) -> str:
    return f"too many failed sign-ins for {name[:64]}; try again in {wait_s} s"
