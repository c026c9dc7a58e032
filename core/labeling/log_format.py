"""The interaction log format, and reading a log file with every bad line named.

One interaction per line, JSONL (or CSV with the same columns):

    {"id": "i-0001", "timestamp": "2026-03-02T09:15:00Z", "query": "gold ppo deductible",
     "retrieved": [{"doc_id": "doc-0003", "rank": 1, "score": 0.82}, …],
     "cited": ["doc-0003"], "clicked": [], "feedback": {"thumbs": "up", "comment": ""},
     "session": "s-17", "user": "u-4", "app_version": "2.3.1"}

`id`, `timestamp` (ISO 8601 or Unix seconds), `query` and `retrieved` are required; the rest
is optional. In CSV, `retrieved` is that JSON list or `doc-1;doc-2;…` (rank = position),
`cited` and `clicked` are `;`-separated, and `thumbs` and `comment` are columns of their own.
flywheel_log.py (top level, no dependencies) writes this format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import InputError
from core.storage.files import text_lines

MAX_ERRORS = 20  # bad lines named in one error message
REQUIRED = ("id", "timestamp", "query", "retrieved")
THUMBS = ("up", "down")
OPTIONAL_TEXT = ("session", "user", "app_version")


@dataclass
class LogLine:
    """One checked interaction."""

    interaction_id: str
    at: datetime  # naive UTC, like every stored timestamp
    query: str
    retrieved: list[tuple[str, int, float | None]]  # (doc_id, rank, score), in rank order
    cited: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)
    thumbs: str = ""
    comment: str = ""
    session: str = ""
    user: str = ""
    app_version: str = ""
    line: int = 0

    def doc_ids(self) -> set[str]:
        return {d for d, _, _ in self.retrieved} | set(self.cited) | set(self.clicked)


def _timestamp(value, where: dict) -> datetime:
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):  # Unix seconds from a CSV cell
        value = float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    raise InputError(f"expects an ISO 8601 time (2026-03-02T09:15:00Z) or Unix seconds, but got {value!r}", field="timestamp", **where)


def _text(record: dict, name: str, where: dict, *, required: bool = False) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name in ("id", *OPTIONAL_TEXT):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"expects {'a non-empty' if required else 'a'} string, but got {value!r}", field=name, **where)
    return value.strip()


def _doc_list(record: dict, name: str, where: dict) -> list[str]:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(d, str) and d.strip() for d in value):
        raise InputError(f"expects a list of document ids, but got {value!r}", field=name, **where)
    return list(dict.fromkeys(d.strip() for d in value))


def _retrieved(record: dict, where: dict) -> list[tuple[str, int, float | None]]:
    value = record.get("retrieved")
    if not isinstance(value, list):
        raise InputError(f"expects a list of {{doc_id, rank, score}}, but got {value!r}", field="retrieved", **where)
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("doc_id"), str) or not item["doc_id"].strip():
            raise InputError(f"expects each item to be {{doc_id, rank, score}} with a doc_id, but got {item!r}", field="retrieved", **where)
        rank, score = item.get("rank"), item.get("score")
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise InputError(f"expects rank to be an integer ≥ 1, but got {rank!r} for {item['doc_id']}", field="retrieved", **where)
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise InputError(f"expects score to be a number or null, but got {score!r} for {item['doc_id']}", field="retrieved", **where)
        out.append((item["doc_id"].strip(), rank, None if score is None else float(score)))
    return sorted(out, key=lambda r: r[1])


def check_record(record: dict, file: str, line: int) -> LogLine:
    """One interaction checked against the schema; an InputError names the file, line and field."""
    where = {"file": file, "line": line}
    for name in REQUIRED:
        if name not in record:
            raise InputError("missing required field", field=name, **where)
    feedback = record.get("feedback") or {}
    if not isinstance(feedback, dict):
        raise InputError(f"expects an object {{thumbs, comment}}, but got {feedback!r}", field="feedback", **where)
    thumbs = feedback.get("thumbs") or ""
    if thumbs not in ("", *THUMBS):
        raise InputError(f"expects thumbs 'up', 'down' or null, but got {thumbs!r}", field="feedback.thumbs", **where)
    comment = feedback.get("comment") or ""
    if not isinstance(comment, str):
        raise InputError(f"expects a string, but got {comment!r}", field="feedback.comment", **where)
    return LogLine(
        interaction_id=_text(record, "id", where, required=True), at=_timestamp(record["timestamp"], where),
        query=" ".join(_text(record, "query", where, required=True).split()), retrieved=_retrieved(record, where),
        cited=_doc_list(record, "cited", where), clicked=_doc_list(record, "clicked", where), thumbs=thumbs, comment=comment,
        **{name: _text(record, name, where) for name in OPTIONAL_TEXT}, line=line,
    )


def _csv_records(path: Path) -> list[tuple[int, dict]]:
    """CSV rows as records of the JSON schema (list columns decoded)."""
    lines = dict(text_lines(path))
    reader = csv.DictReader(io.StringIO("\n".join(lines[n] for n in sorted(lines))))
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(f"expects a header with {', '.join(REQUIRED)}, but got {header}", file=str(path), line=1, field=missing[0])
    numbers = sorted(lines)
    out = []
    for index, row in enumerate(reader, start=1):
        record: dict = {k: (v if v != "" else None) for k, v in row.items() if k}
        number = numbers[index] if index < len(numbers) else index + 1
        raw = (record.get("retrieved") or "").strip()
        if raw.startswith("["):
            try:
                record["retrieved"] = json.loads(raw)
            except json.JSONDecodeError as error:
                raise InputError(f"malformed JSON ({error.msg})", file=str(path), line=number, field="retrieved") from None
        else:
            record["retrieved"] = [{"doc_id": d.strip(), "rank": r} for r, d in enumerate(raw.split(";"), start=1) if d.strip()]
        for name in ("cited", "clicked"):
            record[name] = [d.strip() for d in (record.get(name) or "").split(";") if d.strip()]
        record["feedback"] = {"thumbs": record.pop("thumbs", None), "comment": record.pop("comment", None)}
        out.append((number, record))
    return out


def _json_records(path: Path) -> list[tuple[int, dict | InputError]]:
    out: list[tuple[int, dict | InputError]] = []
    for number, text in text_lines(path):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            out.append((number, InputError(f"malformed JSON ({error.msg} at column {error.colno})", file=str(path), line=number)))
            continue
        out.append((number, record if isinstance(record, dict) else
                    InputError(f"expects a JSON object, but got {type(record).__name__}", file=str(path), line=number)))
    return out


def read_log(path: str | Path) -> list[LogLine]:
    """Every line of a .jsonl or .csv log, checked in full (nothing is stored here); one
    InputError names every bad line (up to MAX_ERRORS) with its field."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"importing logs expects a .jsonl or .csv file, but got '{path}', which does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise InputError(f"importing logs expects a .jsonl or .csv file, but got '{path.name}'; save the log as JSON lines")
    records = _csv_records(path) if suffix == ".csv" else _json_records(path)
    lines, seen, errors = [], {}, []
    for number, record in records:
        try:
            if isinstance(record, InputError):
                raise record
            line = check_record(record, str(path), number)
            if line.interaction_id in seen:
                raise InputError(f"duplicate interaction id '{line.interaction_id}' (first on line {seen[line.interaction_id]})",
                                 file=str(path), line=number, field="id")
        except InputError as error:
            errors.append(error)
            continue
        seen[line.interaction_id] = number
        lines.append(line)
    if errors:
        more = f"\n… and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        error = InputError(f"{len(errors)} bad line{'s' if len(errors) > 1 else ''} in {path.name}, nothing was imported; "
                           "fix them and import again:\n" + "\n".join(str(e) for e in errors[:MAX_ERRORS]) + more)
        error.file, error.line, error.field = str(path), errors[0].line, errors[0].field
        raise error
    return lines
