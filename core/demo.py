"""The embedded demo dataset (data/demo, synthetic, written for Flywheel)."""

from __future__ import annotations

from pathlib import Path

from core.io import ImportResult, import_path
from core.store import Store
from core.workspace import reset

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
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
