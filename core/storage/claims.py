"""Short leases on queue items, so two reviewers never work on the same item at once.

A claim is a row (queue, item_id) → reviewer, expires_at. Taking one is a conditional
merge_insert (it only replaces a claim that has expired or is already the reviewer's own),
then a read-back to confirm; that also holds across processes sharing a workspace.
Overlap (the same item deliberately given to a second reviewer) is the queue's decision:
it claims under a per-reviewer item id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from core.storage.schemas import Claim, now
from core.storage.store import Store, sql_str

DEFAULT_TTL = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1)


def held_by_others(store: Store, queue: str, reviewer: str) -> set[str]:
    """Item ids that another reviewer holds an unexpired claim on."""
    stamp = now().isoformat(sep=" ")
    rows = store.read(
        "claims",
        where=f"queue = {sql_str(queue)} AND reviewer != {sql_str(reviewer)} AND expires_at > TIMESTAMP {sql_str(stamp)}",
        columns=["item_id"],
    )
    return set(rows["item_id"])


def try_claim(store: Store, queue: str, item_id: str, reviewer: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Claim one item for `reviewer`; False when someone else holds it.

    The upsert only replaces an expired claim or the reviewer's own. (queue, item_id) is the
    table's primary key, so LanceDB retries a writer that raced another on the same key against
    the winner's row (store.ensure_tables); reading the row back tells who won.
    """
    stamp = now()
    guard = f"target.expires_at <= TIMESTAMP {sql_str(stamp.isoformat(sep=' '))} OR target.reviewer = {sql_str(reviewer)}"
    rows = store.put_if("claims", Claim(queue=queue, item_id=item_id, reviewer=reviewer, expires_at=stamp + ttl), guard, ["reviewer"])
    return not rows.empty and bool((rows["reviewer"] == reviewer).all())


def claim_next(store: Store, queue: str, reviewer: str, candidates: Iterable[str], ttl: timedelta = DEFAULT_TTL,
               still_open: Callable[[str], bool] | None = None) -> str | None:
    """The first candidate nobody else holds, now claimed by `reviewer`; None when all are taken.

    `candidates` were read before the claim, so another reviewer may have decided one and released
    its claim in between; `still_open(item_id)`, checked once the claim is ours, catches that, and
    the item is given back and skipped.
    """
    taken = held_by_others(store, queue, reviewer)
    for item_id in candidates:
        if item_id in taken or not try_claim(store, queue, item_id, reviewer, ttl):
            continue
        if still_open is None or still_open(item_id):
            return item_id
        release(store, queue, item_id, reviewer)
    return None


def release(store: Store, queue: str, item_id: str, reviewer: str) -> None:
    """Give an item back by expiring the claim."""
    store.update_where("claims", f"queue = {sql_str(queue)} AND item_id = {sql_str(item_id)} AND reviewer = {sql_str(reviewer)}",
                       {"expires_at": EPOCH})


def release_all(store: Store, queue: str, reviewer: str) -> None:
    store.update_where("claims", f"queue = {sql_str(queue)} AND reviewer = {sql_str(reviewer)}", {"expires_at": EPOCH})


class Lease:
    """A claim held for as long as some long work runs (a rollback): `renew()` before each step.

    A renewal after the lease ran out fails even when the claim could be taken again, since
    someone else may have held it meanwhile; the holder then stops, and the next one goes on.
    So two holders never overlap as long as one step takes less than `ttl`.
    """

    def __init__(self, store: Store, queue: str, item_id: str, holder: str, ttl: timedelta):
        self.store, self.queue, self.item_id, self.holder, self.ttl = store, queue, item_id, holder, ttl
        self.until = 0.0  # time.monotonic() by which the claim has run out (measured from before it was taken)

    def take(self) -> bool:
        """Claim the item; False when someone else holds it."""
        started = time.monotonic()
        if not try_claim(self.store, self.queue, self.item_id, self.holder, self.ttl):
            return False
        self.until = started + self.ttl.total_seconds()
        return True

    def renew(self) -> bool:
        """Extend the claim; False when it ran out (or was taken) since the last renewal."""
        return time.monotonic() < self.until and self.take()

    def release(self) -> None:
        release(self.store, self.queue, self.item_id, self.holder)
        self.until = 0.0
