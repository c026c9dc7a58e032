"""Fine-tune on CISI (1,460 library-science abstracts, 112 queries of which 76 are judged, binary qrels) with a
seeded 70/30 query split and default settings (bundled MiniLM).

    python bench/finetune_cisi.py [bi-encoder cross-encoder adapter] [name=value ...]
"""

from __future__ import annotations

import sys

from common import beir_split_bench

if __name__ == "__main__":
    beir_split_bench("cisi", sys.argv[1:])
