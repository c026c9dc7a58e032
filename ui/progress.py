"""A st.progress bar as a core `Progress` callback (done, total), for slow work on the script thread."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def progress_bar(label: str) -> Callable[[int, int], None]:
    bar = st.progress(0.0, text=label)

    def update(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{label} {done:,}/{total:,}")
        if done >= total:
            bar.empty()

    return update
