"""Error types that pages and the CLI catch and show as they are."""

from __future__ import annotations


class FlywheelError(Exception):
    """Base for errors whose message is meant for the user: what was wrong, what to do."""


class InputError(FlywheelError):
    """Bad user input (a file, a setting, an id); nothing was written."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        where = ", ".join(
            part for part in (file and f"{file}", line is not None and f"line {line}", field and f"field '{field}'") if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.line, self.field = file, line, field


class ProviderError(FlywheelError):
    """An LLM or Cohere call failed (auth, rate limit, timeout, invalid output)."""


class ConflictError(FlywheelError):
    """Another reviewer or job got there first (item already decided, a run already going)."""
