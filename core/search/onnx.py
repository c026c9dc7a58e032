"""ONNX Runtime for a sentence-transformer's transformer, without optimum (issue 26).

sentence-transformers' own ONNX backend needs optimum, which pins an older transformers than
sentence-transformers 6 runs on. So the transformer (the model's first module) is exported with
`torch.onnx.export` and run with onnxruntime, while the tokenizer, pooling and normalisation stay
the model's own modules: `encode` (length sorting, batching, pooling as the model defines) is the
library's, only the transformer's forward changes. Int8 is onnxruntime's dynamic quantisation
(MatMul weights per channel, activations per batch).

Measured against float32 torch and bf16 autocast in bench/inference.py; bench/README.md
("Inference precision") says which one Flywheel uses. onnxruntime is the optional [onnx] extra.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from pathlib import Path
from typing import Any

from core.errors import InputError

ONNX_DIR = "onnx"  # inside a model folder, where sentence-transformers' backend looks too
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8.onnx"
SAMPLE = ("a short text", "a longer text, so that the traced batch holds padding and its attention mask zeros")


def available() -> bool:
    """Whether onnxruntime (the [onnx] extra) is installed."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _require() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise InputError("ONNX inference expects the onnx extra, but onnxruntime is not installed; pip install 'flywheel[onnx]'.") from error
    return onnxruntime


def _transformer(model: Any) -> Any:
    """The model's first module when it is a text transformer called by its forward, else an InputError."""
    first = model[0]
    text = getattr(first, "modality_config", {}).get("text", {})
    if not hasattr(first, "model") or text.get("method") != "forward" or not isinstance(text.get("method_output_name"), str):
        raise InputError(f"ONNX export expects a sentence-transformer whose first module is a text transformer, but got "
                         f"{type(first).__name__}; embed this model with torch.")
    return first


def export(model: Any, folder: str | Path, int8: bool = False) -> Path:
    """Write `folder`/onnx/model.onnx for `model`'s transformer (and model_qint8.onnx with `int8`),
    checked against torch on a padded batch; returns the float32 file."""
    import torch

    _require()
    module = _transformer(model)
    backbone = module.model.eval()
    output = module.modality_config["text"]["method_output_name"]
    features = model.preprocess(list(SAMPLE))
    accepted = set(inspect.signature(backbone.forward).parameters)
    names = [n for n, v in features.items() if isinstance(v, torch.Tensor) and n in accepted]

    class Exported(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = backbone

        def forward(self, *inputs):
            return self.backbone(**dict(zip(names, inputs)), return_dict=True)[output]

    target = Path(folder) / ONNX_DIR / FP32_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, output]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes: checked below instead
        # dynamo=False: the TorchScript exporter needs no onnxscript, and traces BERT-like models whole.
        torch.onnx.export(Exported().eval(), tuple(features[n] for n in names), str(target), input_names=names, output_names=[output],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    _check(model, target)
    if int8:
        quantize(target, target.with_name(INT8_FILE))
    return target


def quantize(source: str | Path, target: str | Path) -> Path:
    """onnxruntime's dynamic int8 quantisation of `source`: MatMul weights per output channel (per
    tensor lost twice as much on MiniLM), the embeddings and layer norms left float32."""
    _require()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def advice(record: logging.LogRecord) -> bool:  # its "consider pre-processing" note, logged on the root logger
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(advice)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    finally:
        root.removeFilter(advice)
    return Path(target)


class OnnxTransformer:
    """Stands in for a Transformer module's forward: the same features in, the same token embeddings out."""

    def __init__(self, module: Any, file: str | Path, threads: int = 0):
        import torch

        ort = _require()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()  # as many as torch would use here
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep: the CPU is shared
        self.session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]
        self.output = module.module_output_name
        self.file = str(file)

    def __call__(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        import torch

        (hidden,) = self.session.run(None, {n: features[n].cpu().numpy() for n in self.names})
        features[self.output] = torch.from_numpy(hidden)
        return features


def attach(model: Any, file: str | Path, threads: int = 0) -> Any:
    """`model` with its transformer run by onnxruntime from `file` (an export of this model's):
    every `encode` then tokenizes, pools and normalises as before, around onnxruntime."""
    module = _transformer(model)
    module.forward = OnnxTransformer(module, file, threads)
    return model


def detach(model: Any) -> Any:
    """`model` back on torch."""
    vars(model[0]).pop("forward", None)
    return model


def _check(model: Any, file: Path, tolerance: float = 1e-3) -> None:
    """The export's token embeddings match float32 torch's on a padded batch of SAMPLE, or the export is refused."""
    import numpy as np
    import torch

    module = _transformer(model)
    runner = OnnxTransformer(module, file)
    features = model.preprocess(list(SAMPLE))
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        expected = module.model(**{n: features[n] for n in runner.names}, return_dict=True)[module.modality_config["text"]["method_output_name"]]
    got = runner(dict(features))[runner.output]
    mask = features["attention_mask"].bool().numpy() if "attention_mask" in features else slice(None)
    error = float(np.abs(got.numpy() - expected.float().numpy())[mask].max())  # padded positions are never pooled
    if error > tolerance:
        file.unlink(missing_ok=True)
        raise InputError(f"ONNX export expects token embeddings within {tolerance} of torch's, but they differ by {error:.2g}; "
                         "embed this model with torch.")
