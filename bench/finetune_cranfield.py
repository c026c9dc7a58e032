"""Fine-tune on Cranfield (1,400 aeronautics abstracts, 225 queries, graded 1-4 qrels) with a
seeded 70/30 query split and default settings (bundled MiniLM).

    python bench/finetune_cranfield.py [bi-encoder cross-encoder adapter] [name=value ...]
"""

from __future__ import annotations

import sys

from common import beir_split_bench

if __name__ == "__main__":
    beir_split_bench("cranfield", sys.argv[1:])
