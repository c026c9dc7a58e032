"""The arithmetic precision a run trains in: bf16 autocast where the hardware computes it natively.

On the demo, bf16 autocast on a CPU with avx512_bf16 cut a bi-encoder run's CPU time by 28–33%
at the same nDCG@10 (bench/README.md, issue 13). A CPU without native bf16 emulates it and gets
slower, so "auto" turns it on only there (or on a GPU that supports it). The weights stay float32
(autocast): the saved model, its embeddings and its evaluation do not change precision.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

PRECISIONS = ("auto", "fp32", "bf16")
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@lru_cache(maxsize=1)
def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises bf16 instructions (Linux's /proc/cpuinfo; False elsewhere)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(NATIVE_BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def applied(precision: str) -> str:
    """What "auto", "fp32" or "bf16" means on this machine: "bf16" or "fp32"."""
    if precision != "auto":
        return precision
    import torch

    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def trainer_precision(precision: str) -> dict[str, Any]:
    """The training arguments for `precision`: bf16 autocast, on the CPU when there is no GPU
    (the trainer refuses bf16 on a CPU unless told to use it)."""
    if applied(precision) != "bf16":
        return {}
    import torch

    return {"bf16": True} if torch.cuda.is_available() else {"bf16": True, "use_cpu": True}
