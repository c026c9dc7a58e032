"""One reviewer on the Grade page, as a separate process: the page's own calls in its order
(next_query → candidates → grade each → release), with optional injected faults.

Used by tests/test_stress.py (short, in CI) and bench/stress.py (long). Prints a JSON line per
acknowledged grade, so the parent can compare what reviewers were told with what is stored.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.labeling import grading  # noqa: E402
from core.storage.store import Store  # noqa: E402

INJECTED_CONFLICT = "lance error: Too many concurrent writers (injected)"


class _Flaky:
    """A LanceDB table (or merge builder) whose commits fail now and then like a contended
    write does: before anything is written."""

    def __init__(self, inner, rate: float, rng: random.Random):
        self._inner, self._rate, self._rng = inner, rate, rng

    def _maybe_fail(self):
        if self._rng.random() < self._rate:
            raise RuntimeError(INJECTED_CONFLICT)

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if name in ("add", "delete", "update", "execute"):
            def call(*args, **kwargs):
                self._maybe_fail()
                return value(*args, **kwargs)
            return call
        if name == "merge_insert" or name.startswith("when_"):
            def chain(*args, **kwargs):
                return _Flaky(value(*args, **kwargs), self._rate, self._rng)
            return chain
        return value


def inject_faults(store: Store, conflict_rate: float, fail_at: int | None, rng: random.Random) -> None:
    """Conflicts on a share of table writes; one judgment write (number `fail_at`) that lands
    and then fails slowly, as a write that timed out after its commit would."""
    if conflict_rate:
        table = store.table
        store.table = lambda name: _Flaky(table(name), conflict_rate, rng)
    if fail_at is not None:
        upsert, seen = store.upsert, {"n": 0}

        def failing_upsert(name, rows, **kwargs):
            result = upsert(name, rows, **kwargs)
            if name == "judgments":
                seen["n"] += 1
                if seen["n"] == fail_at:
                    time.sleep(2.0)  # others keep grading meanwhile
                    raise RuntimeError("injected failure after the judgment was written")
            return result

        store.upsert = failing_upsert


def work(uri: str, reviewer: str, grades: int, seed: int, k: int, conflict_rate: float, fail_at: int | None) -> None:
    """Grade until `grades` are acknowledged, printing each event as a JSON line the moment it
    happens (flushed), so a parent that SIGKILLs this process still knows what was acknowledged."""
    rng = random.Random(seed)
    store = Store(uri)
    inject_faults(store, conflict_rate, fail_at, random.Random(seed + 1))

    def emit(kind: str, value) -> None:
        print(json.dumps({kind: value}), flush=True)

    acked = 0
    while acked < grades:
        try:
            item = grading.next_query(store, reviewer, k=k, overlap_share=0.0)
        except Exception as error:  # noqa: BLE001 - the page shows it; the reviewer reloads
            emit("failed", f"next_query {type(error).__name__}: {error}")
            continue
        if item is None:
            break
        emit("handed", [item.queue, item.query_id, time.time()])
        docs = list(grading.candidates(store, None, item.query_id, k=k, mode="full-text")["doc_id"])
        done: list[str] = []
        for doc_id in docs:
            for _ in range(2):  # the reviewer presses again when a save fails
                value = rng.randint(0, 5)
                try:
                    grading.grade(store, reviewer, item.query_id, doc_id, value)
                except Exception as error:  # noqa: BLE001 - recorded: a failed save is not acknowledged
                    emit("failed", f"{type(error).__name__}: {error}")
                    continue
                emit("ack", [item.query_id, doc_id, value])
                acked += 1
                done.append(doc_id)
                break
            if done and rng.random() < 0.1:  # a re-grade of something already graded
                again, value = rng.choice(done), rng.randint(0, 5)
                try:
                    grading.grade(store, reviewer, item.query_id, again, value)
                    emit("ack", [item.query_id, again, value])
                    acked += 1
                except Exception as error:  # noqa: BLE001
                    emit("failed", f"{type(error).__name__}: {error}")
        emit("released", [item.queue, item.query_id, time.time()])  # before: from here on another may get it
        try:
            grading.release(store, reviewer, item)
        except Exception as error:  # noqa: BLE001 - the claim expires on its own
            emit("failed", f"release {type(error).__name__}: {error}")


def collect(reviewer: str, output: str) -> dict:
    """What one worker process printed (complete lines only: a killed one may end mid-line)."""
    result: dict = {"reviewer": reviewer, "acked": [], "handed": [], "released": [], "failed": []}
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        for kind, value in entry.items():
            result["acked" if kind == "ack" else kind].append(value)
    return result


def compare(store: Store, results: list[dict]) -> dict:
    """Acknowledged vs stored: every count but `acknowledged` must be 0."""

    stored = store.read("judgments", columns=["query_id", "doc_id", "reviewer", "grade"])
    human = stored[~stored["reviewer"].str.startswith("import:")]
    keys = ["query_id", "doc_id", "reviewer"]
    duplicated = int(human.duplicated(keys).sum())
    grade_of = {(q, d, r): int(g) for q, d, r, g in human[keys + ["grade"]].itertuples(index=False)}
    events = store.read("events", where="action = 'grade'", columns=["event_id", "at", "actor", "target", "detail"])
    duplicated += int(events["event_id"].duplicated().sum())
    events = events.sort_values("at", kind="stable")
    stored_seq: dict[tuple, list[int]] = {}
    for actor, target, detail in zip(events["actor"], events["target"], events["detail"], strict=False):
        stored_seq.setdefault((actor, target), []).append(json.loads(detail)["grade"])
    lost = reverted = acknowledged = events_lost = events_extra = 0
    holds: dict[str, list[tuple[float, float, str]]] = {}  # query → (from, to, reviewer) while held
    for result in results:
        reviewer, last, seq = result["reviewer"], {}, {}
        for query_id, doc_id, value in result["acked"]:
            acknowledged += 1
            last[(query_id, doc_id, reviewer)] = value
            seq.setdefault((reviewer, f"judgment:{query_id}/{doc_id}"), []).append(value)
        for key, value in last.items():
            if key not in grade_of:
                lost += 1
            elif grade_of[key] != value:
                reverted += 1
        for key, values in seq.items():
            got = stored_seq.get(key, [])
            events_lost += max(0, len(values) - len(got))
            events_extra += max(0, len(got) - len(values))
        ends = {}
        for queue, query_id, at in result["released"]:
            ends.setdefault((queue, query_id), []).append(at)
        for queue, query_id, at in result["handed"]:
            later = [end for end in ends.get((queue, query_id), []) if end >= at]
            holds.setdefault(query_id, []).append((at, min(later) if later else float("inf"), reviewer))
    held_by_two = 0  # a query given to a second reviewer while the first still held it
    for spans in holds.values():
        spans.sort()
        held_by_two += sum(1 for i, (_, a1, ra) in enumerate(spans) for (b0, _, rb) in spans[i + 1 :] if ra != rb and b0 < a1)
    return {"acknowledged": acknowledged, "lost": lost, "reverted": reverted, "duplicated": duplicated,
            "events_lost": events_lost, "events_extra": events_extra, "held_by_two": held_by_two,
            "failed_saves": sum(len(r["failed"]) for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    parser.add_argument("reviewer")
    parser.add_argument("--grades", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--conflict-rate", type=float, default=0.0)
    parser.add_argument("--fail-at", type=int, default=None)
    args = parser.parse_args()
    work(args.uri, args.reviewer, args.grades, args.seed, args.k, args.conflict_rate, args.fail_at)


if __name__ == "__main__":
    main()
