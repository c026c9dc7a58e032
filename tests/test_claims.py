from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from core.storage import claims
from core.storage.store import Store


def test_two_reviewers_never_get_the_same_item(store):
    items = [f"q{i}" for i in range(6)]
    first = claims.claim_next(store, "review", "ann", items)
    second = claims.claim_next(store, "review", "bob", items)
    assert first == "q0" and second == "q1"
    # ann asking again keeps her own item
    assert claims.claim_next(store, "review", "ann", items) == "q0"


def test_expired_claim_can_be_taken_over(store):
    assert claims.try_claim(store, "review", "q0", "ann", ttl=timedelta(seconds=-1))
    assert claims.try_claim(store, "review", "q0", "bob")
    assert not claims.try_claim(store, "review", "q0", "ann")


def test_release_frees_the_item(store):
    claims.try_claim(store, "review", "q0", "ann")
    claims.release(store, "review", "q0", "ann")
    assert claims.claim_next(store, "review", "bob", ["q0"]) == "q0"


def test_concurrent_sessions_in_two_processes_views(workspace):
    """Two Store handles (as two app processes would have) racing for six items."""
    a, b = Store(workspace.db_uri), Store(workspace.db_uri)
    items = [f"q{i}" for i in range(6)]

    def take(args):
        handle, name = args
        got = []
        for _ in range(3):
            item = claims.claim_next(handle, "review", name, items)
            got.append(item)
        return got

    with ThreadPoolExecutor(2) as pool:
        ann, bob = pool.map(take, [(a, "ann"), (b, "bob")])
    assert not set(ann) & set(bob)
