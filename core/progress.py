"""How far long work is, in one shape: core tells it, whoever runs the work draws it.

Long work in core (embedding a corpus, mining, scoring pairs, writing an import, a training
run) takes a `progress` argument of this type and knows nothing of who listens: the app draws
it with st.progress (ui/progress.py), the CLI with a tqdm bar on stderr
(core.commands.output.Bars), a run writes it into its row (core.training.jobs.Reporter.progress).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int, phase: str = "", note: str = "") -> None:
        """`done` of `total` units of the current phase (total 0: its size is not known).

        `phase` names what the work does now, e.g. "writing documents"; a new name starts a new
        count and ETA, "" goes on with the current phase (at first, the name the listener was
        given): leaf work such as encoding documents only counts, its caller names the phase.
        `note` is a detail that changes within a phase: the document in hand, the latest loss."""
