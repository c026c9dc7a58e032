"""The embedded demo dataset (data/demo, synthetic, written for Flywheel)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.storage.imports import ImportResult, import_path
from core.storage.status import reset
from core.storage.store import Store

# data/demo in a checkout; <prefix>/share/flywheel/demo in a wheel install (pyproject data-files).
DEMO_DIRS = (Path(__file__).resolve().parents[2] / "data" / "demo", Path(sys.prefix) / "share" / "flywheel" / "demo")
DEMO_DIR = next((d for d in DEMO_DIRS if d.is_dir()), DEMO_DIRS[0])
DEMO_NAME = "demo"


def demo_loaded(store: Store) -> bool:
    return store.count("documents", "source = 'demo'") > 0


def load_demo(store: Store, *, reset_workspace: bool = False, actor: str = "cli") -> ImportResult | None:
    """Load the demo into the workspace; a no-op when it is already there (unless reset)."""
    if reset_workspace:
        reset(store)
    elif demo_loaded(store):
        return None
    return import_path(store, DEMO_DIR, name=DEMO_NAME, actor=actor)
