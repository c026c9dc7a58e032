"""Grading guidelines of a workspace: what each grade means, with examples, and what counts as a
hard negative. Shown beside the document on Grade as plain text (line breaks kept, no markdown:
anyone who may edit them must not be able to put links or images in front of every reviewer);
engineers and admins edit them, annotators read them.

Stored as `guidelines` events (the latest wins), so every edit keeps who changed what and when,
and a workspace on object storage needs no extra file.
"""

from __future__ import annotations

import json

from core.errors import InputError
from core.storage.auth import Action, User, actor_name
from core.storage.store import Store

ACTION = "guidelines"
MAX_CHARS = 20_000
DEFAULT = """0 · irrelevant: about something else. "gold hmo deductible" → a page on dental claims.

1 · marginal: mentions the topic, does not help. → a plan list that names the Gold HMO without its deductible.

2 · partially relevant: part of the answer, or the answer for a neighbouring case. → the Gold HMO deductible for last year.

3 · relevant: answers the question, with some digging. → a benefits table that includes the Gold HMO deductible.

4 · highly relevant: answers it directly. → "Gold HMO: deductible $750 per person".

5 · exactly answers: the page someone asking this wants first.

Hard negative: a document a search engine would rank high (same words, same product, same year) that does *not*
answer the query: the Silver PPO deductible for a Gold HMO question, the 2026 figure for a 2025 question. Flag it (h)
and grade it 0–2. Not a hard negative: a page that is simply off topic (just grade it 0).

When unsure between two grades, pick the lower one and add a note."""


def read(store: Store) -> tuple[str, str, object]:
    """(text, who set it, when); the default text, '' and None until someone edits it."""
    events = store.read("events", where={"action": ACTION}, columns=["actor", "at", "detail"])
    if events.empty:
        return DEFAULT, "", None
    latest = events.sort_values("at").iloc[-1]
    return json.loads(latest["detail"] or "{}").get("text", DEFAULT), str(latest["actor"]), latest["at"]


def save(store: Store, actor: str | User, text: str) -> None:
    """A new version; a signed-in `actor` needs the engineer role."""
    name = actor_name(actor, Action.edit_guidelines)
    text = text.strip()
    if not text or len(text) > MAX_CHARS:
        raise InputError(f"guidelines expect 1 to {MAX_CHARS:,} characters, but got {len(text):,}; write what each grade means")
    store.log(name, ACTION, "workspace", text=text)
