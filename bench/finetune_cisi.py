"""Fine-tune on CISI (1,460 library-science abstracts, 112 queries of which 76 are judged, binary qrels) with a
seeded 70/30 query split and default settings (bundled MiniLM).

    python bench/finetune_cisi.py [bi-encoder cross-encoder adapter]
"""

from __future__ import annotations

import sys
import tempfile

from common import DATASETS, run_kinds, table

from core.settings import Settings
from core.storage.imports import import_path
from core.storage.splits import assign_splits
from core.storage.store import Store


def main(kinds: list[str]) -> None:
    workspace = tempfile.mkdtemp(prefix="flywheel-cisi-")
    store = Store(Settings(workspace=workspace).db_uri)
    import_path(store, DATASETS / "cisi", name="cisi")
    print(assign_splits(store, eval_fraction=0.3, seed=0, reset=True), flush=True)
    results = run_kinds(store, Settings(workspace=workspace), kinds)
    print(table(results))


if __name__ == "__main__":
    main(sys.argv[1:] or ["bi-encoder", "cross-encoder", "adapter"])
