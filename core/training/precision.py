"""The arithmetic precision a run trains in: bf16 autocast where the hardware computes it natively.

On the demo, bf16 autocast on a CPU with avx512_bf16 cut a bi-encoder run's CPU time by 28–33%
at the same nDCG@10 (bench/README.md, issue 13). A CPU without native bf16 emulates it and gets
slower, so "auto" turns it on only there (or on a GPU that supports it). The weights stay float32
(autocast): the saved model does not change precision. The rule itself lives in
core.search.precision, where embedding and scoring follow it too (issue 26).
"""

from __future__ import annotations

from typing import Any

from core.search.precision import PRECISIONS, applied, cpu_has_native_bf16  # noqa: F401 (the one rule, re-exported)


def trainer_precision(precision: str) -> dict[str, Any]:
    """The training arguments for `precision`: bf16 autocast, on the CPU when there is no GPU
    (the trainer refuses bf16 on a CPU unless told to use it)."""
    if applied(precision) != "bf16":
        return {}
    import torch

    return {"bf16": True} if torch.cuda.is_available() else {"bf16": True, "use_cpu": True}
