"""Fine-tune on the demo (373 help-centre documents, graded 0–5 qrels, its own train/eval
split) with default settings (bundled MiniLM), as `flywheel demo && flywheel train` does.

    python bench/finetune_demo.py [bi-encoder cross-encoder adapter] [--warm-start | --no-warm-start] [--lambda]
"""

from __future__ import annotations

import sys
import tempfile

from common import flags, run_kinds, table

from core.settings import Settings
from core.storage.demo import load_demo
from core.storage.store import Store


def main(kinds: list[str], extra: dict) -> None:
    workspace = tempfile.mkdtemp(prefix="flywheel-demo-")
    store = Store(Settings(workspace=workspace).db_uri)
    load_demo(store)
    results = run_kinds(store, Settings(workspace=workspace), kinds, extra)
    print(table(results))


if __name__ == "__main__":
    kinds, extra = flags(sys.argv[1:])
    main(kinds or ["bi-encoder", "cross-encoder", "adapter"], extra)
