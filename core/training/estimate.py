"""How long a run will take, before launch: from this workspace's finished runs of the same kind.

A run's wall time grows with its training pairs times epochs (the before/after evaluation
adds a roughly fixed part), so the estimate scales the fastest recent rate measured here, on
this machine, by the planned amount of work. No finished run of a kind, no estimate: a guess
from another machine would mislead more than it helps.
"""

from __future__ import annotations

import json

import pandas as pd

from core.storage.schemas import RunStatus
from core.storage.store import Store

RECENT = 5  # the last few finished runs of a kind


def measured_rates(store: Store, kind: str) -> list[float]:
    """Seconds per (training pair × epoch) of this kind's last succeeded runs, newest first."""
    runs = store.read("runs", where={"kind": kind, "status": RunStatus.succeeded},
                      columns=["config", "snapshot", "started_at", "finished_at", "created_at"])
    rates = []
    for row in runs.sort_values("created_at", ascending=False).to_dict("records"):
        start, end = row["started_at"] if pd.notna(row["started_at"]) else row["created_at"], row["finished_at"]
        work = int(json.loads(row["snapshot"] or "{}").get("train_pairs") or 0) * float(json.loads(row["config"] or "{}").get("epochs") or 1)
        if pd.notna(end) and work > 0:
            rates.append((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / work)
        if len(rates) == RECENT:
            break
    return rates


def estimate_s(store: Store, kind: str, pairs: int, epochs: float, max_steps: int = 0, batch_size: int = 32,
               time_budget_s: float = 0.0) -> tuple[float, int] | None:
    """(seconds, runs it is based on), or None before the first finished run of this kind."""
    rates = measured_rates(store, kind)
    if not rates or pairs <= 0:
        return None
    work = pairs * epochs
    if max_steps:
        work = min(work, max_steps * batch_size)
    seconds = sorted(rates)[len(rates) // 2] * work  # the median rate: one slow run on a busy machine does not dominate
    if time_budget_s:
        seconds = min(seconds, time_budget_s * 1.1)
    return seconds, len(rates)
