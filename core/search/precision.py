"""The arithmetic precision of a model's forward pass: bf16 autocast where the hardware computes it natively.

One rule for training and inference ("auto"): bf16 on a GPU that supports it or on a CPU that
advertises avx512_bf16 or AMX; fp32 elsewhere, where bf16 is emulated and slower (and on Apple's
MPS). The weights stay float32 under autocast; layer norms and the pooled, normalised embeddings
come out float32, and stored vectors are float32 either way.

Inference (every encode and cross-encoder predict) follows FLYWHEEL_PRECISION ("auto" unless set;
"fp32" forces the float32 path of before issue 26). On this project's 2-core CPU with AMX, bf16
embedded the demo corpus 1.6–4× faster at the same nDCG@10 (bench/README.md, "Inference precision").
It lives in search, the lowest stage that runs models; training's rule (core.training.precision) is this one.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import InputError

PRECISIONS = ("auto", "fp32", "bf16")
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
PRECISION_ENV = "FLYWHEEL_PRECISION"  # inference precision: auto | fp32 | bf16


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


def applied(precision: str, device: str | None = None) -> str:
    """What "auto", "fp32" or "bf16" means for work on `device` ("cpu", "cuda", …; None: the GPU if
    there is one, else the CPU, as a training run picks): "bf16" or "fp32"."""
    if precision != "auto":
        return precision
    import torch

    kind = device.split(":")[0] if device else "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    if kind == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp32"  # MPS and the rest: no measured gain


def inference_precision(precision: str | None = None, device: str = "cpu") -> str:
    """The precision embedding and scoring run in on `device`: `precision`, else the
    FLYWHEEL_PRECISION setting, else "auto"; resolved to "bf16" or "fp32" by `applied`."""
    chosen = (precision or os.environ.get(PRECISION_ENV, "") or "auto").strip().lower()
    if chosen not in PRECISIONS:
        source = "precision" if precision else PRECISION_ENV
        raise InputError(f"{source} expects " + " or ".join(f"'{p}'" for p in PRECISIONS) + f", but got '{chosen}'; "
                         "use 'fp32' for the float32 path, or leave it unset ('auto').")
    return applied(chosen, device)


def model_device(model: Any) -> str:
    """The device type a torch module computes on (its first parameter's), "cpu" without one."""
    parameters = getattr(model, "parameters", None)
    parameter = next(iter(parameters()), None) if callable(parameters) else None
    return parameter.device.type if parameter is not None else "cpu"


def autocast(model: Any, precision: str):
    """A context that runs `model` in `precision` ("bf16": autocast on its device; "fp32": nothing)."""
    if precision != "bf16":
        return nullcontext()
    import torch

    return torch.autocast(model_device(model), dtype=torch.bfloat16)


class Bf16Forward:
    """A module's forward under bf16 autocast, a fresh context per call (threads sharing a cached model
    share no state). An object holding the module, not a closure: `copy.deepcopy` of the model (as
    quantisation does) then gets a wrapper of the copy, where a closure would still run the original."""

    def __init__(self, module: Any):
        self.module = module

    def __call__(self, *args, **kwargs):
        with autocast(self.module, "bf16"):
            return type(self.module).forward(self.module, *args, **kwargs)


def for_inference(model: Any, precision: str | None = None) -> Any:
    """`model` (a SentenceTransformer or CrossEncoder kept for encoding or scoring, never trained)
    with its forward pass in the inference precision, so that every caller's `encode`, `predict`
    and the library's own (mine_hard_negatives) run in it; `model.flywheel_precision` says which.
    bf16 runs the forward under autocast (PyTorch documents autocast as a decorator of `forward`)."""
    resolved = inference_precision(precision, model_device(model))
    if isinstance(vars(model).get("forward"), Bf16Forward):
        del model.forward  # an earlier call's wrapper: back to the class's forward
    if resolved == "bf16":
        model.forward = Bf16Forward(model)
    model.flywheel_precision = resolved
    return model
