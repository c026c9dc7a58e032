"""How every command prints: one JSON value per line on stdout, the last line machine-readable;
notes and progress on stderr."""

from __future__ import annotations

import json
import sys

from tqdm import tqdm

UNSIZED = "{desc} [{elapsed}{postfix}]"  # a phase whose size is not known yet: its name and time so far


def print_json(value) -> None:
    print(json.dumps(value, default=str))


def open_store(settings, *, create: bool = True):
    """The workspace's Store; read-only commands pass create=False so a typo in --workspace
    does not make an empty one. Rollbacks done at open (an interrupted import) are announced."""
    from core.storage.store import Store

    store = Store(settings.db_uri, create=create)
    for message in store.recovered:
        print(f"note: {message}", file=sys.stderr)
    return store


class Bars:
    """A core `Progress` drawn as tqdm bars on stderr: one bar a phase, with its count, rate, ETA
    and the note (loss, document) after it; a finished phase's line stays with its time, so a
    terminal shows where the work went. --quiet draws nothing. Use as a context manager: the
    last bar is closed on leaving, also when the work failed."""

    def __init__(self, label: str, quiet: bool = False):
        self.label, self.quiet = label, quiet
        self.phase = ""
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int, phase: str = "", note: str = "") -> None:
        phase = phase or self.phase or self.label
        if self.bar is None or phase != self.phase:
            self.close()
            self.phase = phase
            # initial: a phase may start part-way (a learning curve's point starts at its share of the whole)
            self.bar = tqdm(total=total or None, initial=done, desc=phase, file=sys.stderr, disable=self.quiet, dynamic_ncols=True,
                            bar_format=None if total else UNSIZED)
        elif total != (self.bar.total or 0) or done < self.bar.n:  # the size became known, or the count started over
            self.bar.bar_format = None if total else UNSIZED
            self.bar.reset(total=total or None)
            self.bar.update(done)
        else:
            self.bar.update(done - self.bar.n)
        if note:
            self.bar.set_postfix_str(note, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bars(args, label: str) -> Bars:
    """The command's progress bars, silent under the global --quiet."""
    return Bars(label, quiet=getattr(args, "quiet", False))
