"""Is the process that owns a row (a run, a journalled import) still alive?

On its own host a process is asked directly (a pid alone is not enough: a live pid that started
after the row is another process reusing the number). A process on another host, as with a
workspace on object storage shared by two machines, cannot be asked: it proves it is alive by
writing a heartbeat, and counts as gone only once its heartbeat is older than `stale_after`.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pandas as pd
import psutil

from core.storage.schemas import now

HEARTBEAT_EVERY = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=5)  # ten missed heartbeats: the owner is gone


def this_host() -> str:
    return socket.gethostname()


def process_gone(host: str, pid: int, started_at: object, heartbeat: object = None, stale_after: timedelta = STALE_AFTER) -> bool:
    """True when the owner (host, pid), which began at `started_at` and last beat at
    `heartbeat` (None or '' when it never beat), has ended."""
    if host and host != this_host():
        last = _timestamp(heartbeat) or _timestamp(started_at)
        return last is None or now() - last > stale_after
    return not _local_alive(int(pid or 0), _timestamp(started_at))


def _local_alive(pid: int, started_at: datetime | None) -> bool:
    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # killed, not yet reaped by its parent
            return False
        born = datetime.fromtimestamp(process.create_time(), UTC).replace(tzinfo=None)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's live process
        return True
    return started_at is None or born <= started_at + timedelta(seconds=1)


def _timestamp(value: object) -> datetime | None:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    return (stamp.tz_convert(None) if stamp.tzinfo else stamp).to_pydatetime()
