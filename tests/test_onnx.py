"""ONNX Runtime without optimum: the tiny model's transformer exported with torch.onnx.export, run by
onnxruntime inside the model's own encode (tokenizer, pooling, normalisation unchanged)."""

import numpy as np
import pytest

pytest.importorskip("onnxruntime")  # the [onnx] extra; `make test` installs it through [dev]

from core.errors import InputError  # noqa: E402
from core.search import onnx  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402

TEXTS = ["gold hmo deductible", "what is an HSA", "emergency room visits are covered in and out of network after the copay " * 3]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_an_exported_model_embeds_as_torch_does(tiny, tmp_path):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(tiny, device="cpu")
    expected = model.encode(TEXTS, batch_size=2, normalize_embeddings=True)  # batches of different lengths, padded
    exported = onnx.export(model, tmp_path / "model", int8=True)
    assert exported == tmp_path / "model" / "onnx" / "model.onnx" and exported.with_name(onnx.INT8_FILE).exists()

    onnx.attach(model, exported)
    got = model.encode(TEXTS, batch_size=2, normalize_embeddings=True)
    assert np.abs(got - expected).max() < 1e-4
    onnx.attach(model, exported.with_name(onnx.INT8_FILE))  # int8: close, not equal
    assert np.all(np.sum(model.encode(TEXTS, batch_size=2, normalize_embeddings=True) * expected, axis=1) > 0.98)
    onnx.detach(model)
    assert np.abs(model.encode(TEXTS, batch_size=2, normalize_embeddings=True) - expected).max() < 1e-6  # back on torch


def test_a_model_without_a_text_transformer_is_refused(tmp_path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize

    with pytest.raises(InputError, match="ONNX export expects a sentence-transformer whose first module is a text transformer, but got Normalize"):
        onnx.export(SentenceTransformer(modules=[Normalize()], device="cpu"), tmp_path)
