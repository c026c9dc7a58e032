"""How long a workspace keeps earlier table versions, and the optimize that prunes them.

LanceDB keeps every version of a table (each grade adds one) until an optimize prunes those
older than a cut-off. The cut-off is the workspace's retention, recorded in its `meta` table
(`flywheel optimize --keep-versions DAYS`; 7 days, LanceDB's own default, until set) and used
by every compaction (Store.compact). Within it `flywheel backup --at TIME` snapshots an earlier
moment; a backup itself restores whatever its age.

Every process that opens a workspace runs a daemon thread that looks a minute after the open,
then hourly (one read of `meta`), whether the whole workspace was optimized in the last day; if
not, the process that wins a compare-and-set on `optimized_at` optimizes it. Short CLI commands
end before the first look; the app's server, open for days, does it. An optimize cut short by
an exit is harmless (each LanceDB commit is atomic) and is done again a day later.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import InputError
from core.storage.migrations import read_meta, write_meta
from core.storage.schemas import now
from core.storage.store import Store, retrying

KEEP_KEY = "keep_versions_days"
OPTIMIZED_KEY = "optimized_at"
DEFAULT_KEEP_DAYS = 7.0
MIN_KEEP_DAYS = 1.0  # a reader or a backup may be reading a version seconds old: never prune those
OPTIMIZE_EVERY = timedelta(days=1)
FIRST_CHECK_S = 60.0
CHECK_EVERY_S = 3600.0


def keep_days(meta: dict[str, str]) -> float:
    return float(meta.get(KEEP_KEY, DEFAULT_KEEP_DAYS))


def on_open(store: Store, *, fresh: bool = False) -> threading.Thread:
    """Load the retention into the store, stamp a new workspace as just optimized, start the check."""
    meta = read_meta(store)
    store.keep_versions = timedelta(days=keep_days(meta))
    if fresh and OPTIMIZED_KEY not in meta:
        write_meta(store, {OPTIMIZED_KEY: now().isoformat()}, expect={OPTIMIZED_KEY: None})
    return schedule(store)


def set_keep_days(store: Store, days: float) -> None:
    if not days >= MIN_KEEP_DAYS:
        raise InputError(f"--keep-versions expects a number of days of at least {MIN_KEEP_DAYS:g} (a reader or a backup may "
                         f"be reading a version seconds old), but got {days:g}; pass 1 to keep the least")
    write_meta(store, {KEEP_KEY: repr(float(days))})
    store.keep_versions = timedelta(days=days)


def schedule(store: Store) -> threading.Thread:
    """The daily-optimize check as a daemon thread; it ends when the store is gone."""
    ref = weakref.ref(store)

    def loop() -> None:
        wait = FIRST_CHECK_S
        while True:
            time.sleep(wait)
            wait = CHECK_EVERY_S
            current = ref()
            if current is None:
                return
            try:
                optimize_if_due(current)
            except Exception:  # noqa: BLE001 - an optimisation; the workspace is the same without it, and it is tried again in an hour
                pass
            del current

    thread = threading.Thread(target=loop, name="flywheel-optimize", daemon=True)
    thread.start()
    return thread


def optimize_if_due(store: Store, at: datetime | None = None) -> dict | None:
    """Optimize the workspace when its last optimize is a day old, in one process only; None when
    not due (the check is one read of `meta`) or when another process took it."""
    at = at or now()
    meta = read_meta(store)
    store.keep_versions = timedelta(days=keep_days(meta))
    last = meta.get(OPTIMIZED_KEY)
    if last and at - datetime.fromisoformat(last) < OPTIMIZE_EVERY:
        return None
    if not write_meta(store, {OPTIMIZED_KEY: at.isoformat()}, expect={OPTIMIZED_KEY: last}):
        return None
    report = optimize(store)
    store.log("flywheel", "optimize", "workspace", scheduled=True, **{k: v for k, v in report.items() if k != "problems"})
    return report


def optimize(store: Store, keep: timedelta | None = None) -> dict:
    """Compact every table, fold new rows into its indexes, and prune versions older than `keep`
    (the workspace's retention by default); reports versions and bytes on disk before and after."""
    keep = store.keep_versions if keep is None else keep
    before = footprint(store)
    problems = []
    for name in store.table_names():
        try:
            retrying(lambda name=name: store.table(name).optimize(cleanup_older_than=keep))
            store.ensure_scalar_indexes(name)
        except Exception as error:  # noqa: BLE001 - one table's failure leaves the others to do
            problems.append(f"{name}: {error}")
    after = footprint(store)
    return {"keep_versions_days": keep / timedelta(days=1), "tables": after["tables"],
            "versions_before": before["versions"], "versions_after": after["versions"],
            "bytes_before": before["bytes"], "bytes_after": after["bytes"],
            "restorable_since": restorable_since(store), "problems": problems}


def footprint(store: Store) -> dict:
    """Tables, table versions and bytes on disk of a local workspace (None for object storage)."""
    names = store.table_names()
    root = Path(store.uri)
    if "://" in store.uri or not root.is_dir():
        return {"tables": len(names), "versions": None, "bytes": None}
    versions = sum(1 for name in names for _ in (root / f"{name}.lance" / "_versions").glob("*.manifest"))
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return {"tables": len(names), "versions": versions, "bytes": size}


def version_times(table) -> list[tuple[int, datetime]]:
    """(version, commit time as naive UTC) of every kept version, oldest first. LanceDB gives the
    writer's local time; a version's time is only as good as that machine's clock."""
    return [(v["version"], v["timestamp"].astimezone(UTC).replace(tzinfo=None)) for v in table.list_versions()]


def restorable_since(store: Store) -> str | None:
    """The earliest moment `flywheel backup --at` can snapshot: every table still has the version
    it held then. A table whose first version is still kept limits nothing (it did not exist before)."""
    limits = []
    for name in store.table_names():
        first_version, first_at = version_times(store.table(name))[0]
        if first_version > 1:
            limits.append(first_at)
    return max(limits).isoformat() if limits else None
