"""Typed row filters: how code outside storage says which rows it wants.

The store owns every query string. Callers pass `where={"split": Split.eval, "status":
QueryStatus.approved}`; a list (or set, tuple, pandas column) means "one of these", None means
"missing", and the small types below say "not", "after", "at least", "before" or "starts with".
Values are always quoted here (user text never reaches a filter unquoted) and column names are
checked, so a filter built from data can never become SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from core.errors import InputError

_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


def _many(value: Any) -> bool:
    """A list, set, tuple, but also a pandas column, an array or a dict's keys: "one of these"."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


@dataclass(frozen=True)
class Not:
    """The column is not this value (or not any of these values, or not missing)."""

    value: Any


@dataclass(frozen=True)
class After:
    """Strictly greater: a later time, a larger number."""

    value: Any


@dataclass(frozen=True)
class AtLeast:
    value: Any


@dataclass(frozen=True)
class Before:
    """Strictly smaller: an earlier time, a smaller number."""

    value: Any


@dataclass(frozen=True)
class StartsWith:
    """Text that begins with this prefix: an import's judgments (reviewer "import:…"), an LLM judge's
    suggestions (agent "llm:…"). The prefix is matched literally, never as a pattern."""

    value: str


Where = Mapping[str, Any] | str | None  # a str only inside core/storage (a layout test keeps it so)


def literal(value: Any) -> str:
    """A SQL literal for a stored value: booleans, numbers, timestamps or (quoted) strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, pd.Timestamp)):
        return f"TIMESTAMP {quote(pd.Timestamp(value).isoformat(sep=' '))}"
    return quote(value)


def quote(value: Any) -> str:
    """A SQL string literal (user text never reaches a filter unquoted)."""
    return "'" + str(value).replace("'", "''") + "'"


def one_of(column: str, values: Any) -> str:
    items = [literal(v) for v in values]
    return f"{column} IN ({', '.join(items)})" if items else "false"


def clause(column: str, value: Any, prefix: str = "") -> str:
    if not _COLUMN.fullmatch(column):
        raise InputError(f"a filter expects a column name, but got {column!r}")
    column = prefix + column
    if isinstance(value, Not):
        inner = value.value
        if inner is None:
            return f"{column} IS NOT NULL"
        if _many(inner):
            inner = list(inner)
            return f"NOT ({one_of(column, inner)})" if inner else "true"
        return f"{column} != {literal(inner)}"
    if isinstance(value, After):
        return f"{column} > {literal(value.value)}"
    if isinstance(value, AtLeast):
        return f"{column} >= {literal(value.value)}"
    if isinstance(value, Before):
        return f"{column} < {literal(value.value)}"
    if isinstance(value, StartsWith):
        return f"starts_with({column}, {quote(value.value)})"
    if value is None:
        return f"{column} IS NULL"
    if _many(value):
        return one_of(column, value)
    return f"{column} = {literal(value)}"


def predicate(where: Where, prefix: str = "") -> str | None:
    """The SQL of a filter (None: every row). A str passes through: storage's own key filters.
    `prefix` names the row's side in a guarded upsert ("target.": the stored row)."""
    if where is None or isinstance(where, str):
        return where
    clauses = [clause(column, value, prefix) for column, value in where.items()]
    return " AND ".join(clauses) or None
