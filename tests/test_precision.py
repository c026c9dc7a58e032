"""Precision: bf16 autocast only where the hardware has it, float32 weights and vectors either way;
for training runs and for inference (every encode and predict), and each precision's vectors in a
table of their own."""

import numpy as np
import pytest

from core.errors import InputError
from core.search import precision
from core.search.models import Embedder, embeddings_key, model_key
from core.search.retrieval import ensure_corpus_embeddings
from core.training.callbacks import trainer_arguments
from core.training.config import TrainConfig
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def native(monkeypatch):
    """Set whether this CPU 'has' native bf16, with no FLYWHEEL_PRECISION setting."""
    monkeypatch.delenv(precision.PRECISION_ENV, raising=False)

    def set_native(value: bool) -> None:
        monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: value)

    return set_native


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return str(path)


def _linear_dtypes(model, call) -> set[str]:
    """The dtypes the model's Linear layers computed in during `call()`."""
    import torch

    seen: set[str] = set()
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.add(str(out.dtype))) for m in model.modules() if type(m) is torch.nn.Linear]
    try:
        call()
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    assert precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "avx512f avx512_bf16"))
    assert precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "amx_bf16 amx_tile"))
    assert not precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "avx512f avx512bw"))  # emulated there: slower
    assert not precision.cpu_has_native_bf16.__wrapped__(str(tmp_path / "missing"))


@pytest.mark.parametrize("has_bf16", [True, False])
def test_auto_trains_in_bf16_on_the_cpu_only_where_it_is_native(native, tmp_path, has_bf16):
    native(has_bf16)
    args = trainer_arguments(TrainConfig().resolved(), tmp_path, rows=100, metric_key="")
    assert (args.get("bf16"), args.get("use_cpu")) == ((True, True) if has_bf16 else (None, None))
    forced = trainer_arguments(TrainConfig(precision="fp32").resolved(), tmp_path, rows=100, metric_key="")
    assert "bf16" not in forced


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(InputError, match="precision to be 'auto' or 'fp32' or 'bf16', but got 'fp16'"):
        TrainConfig(precision="fp16").resolved()


def test_inference_follows_the_same_rule_and_the_setting_forces_float32(native, monkeypatch):
    native(True)
    assert precision.inference_precision() == "bf16"
    assert precision.inference_precision("fp32") == "fp32"
    assert precision.inference_precision(device="mps") == "fp32"
    monkeypatch.setenv(precision.PRECISION_ENV, "fp32")
    assert precision.inference_precision() == "fp32"  # the setting: the old path, even on a bf16 CPU
    assert precision.inference_precision("bf16") == "bf16"  # an explicit choice (the CLI flag) wins
    native(False)
    monkeypatch.delenv(precision.PRECISION_ENV)
    assert precision.inference_precision() == "fp32"  # emulated bf16 would be slower
    monkeypatch.setenv(precision.PRECISION_ENV, "fp16")
    with pytest.raises(InputError, match="FLYWHEEL_PRECISION expects 'auto' or 'fp32' or 'bf16', but got 'fp16'"):
        precision.inference_precision()


@pytest.mark.parametrize("has_bf16", [True, False])
def test_an_embedder_encodes_in_bf16_only_where_native_and_returns_float32(native, tiny, has_bf16):
    native(has_bf16)
    embedder = Embedder(tiny)
    assert embedder.precision == ("bf16" if has_bf16 else "fp32")
    dtypes = _linear_dtypes(embedder.model, lambda: embedder.model.encode(["gold hmo deductible"]))  # any caller's encode
    assert dtypes == ({"torch.bfloat16"} if has_bf16 else {"torch.float32"})
    vectors = embedder.encode_documents(["gold hmo deductible", "how to appeal a claim"])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert {str(p.dtype) for p in embedder.model.parameters()} == {"torch.float32"}  # autocast: the weights stay float32


def test_bf16_vectors_stay_close_to_float32(tiny):
    texts = ["silver ppo deductible 2025", "add my newborn to my plan", "emergency room coverage out of network " * 8]
    fp32 = Embedder(tiny, precision="fp32").encode_documents(texts)
    bf16 = Embedder(tiny, precision="bf16").encode_documents(texts)
    assert np.all(np.sum(fp32 * bf16, axis=1) > 0.99)


def test_each_precision_embeds_into_its_own_table(small_store, tiny):
    """The table's key records the precision: float32 keeps the key every workspace already has."""
    fp32, bf16 = Embedder(tiny, precision="fp32"), Embedder(tiny, precision="bf16")
    assert fp32.key == model_key(tiny) == embeddings_key(tiny, "fp32")
    assert bf16.key == model_key(tiny) + "_bf16" == embeddings_key(tiny, "bf16")
    assert ensure_corpus_embeddings(small_store, fp32) == 12
    assert ensure_corpus_embeddings(small_store, bf16) == 12  # float32 vectors are not taken for bf16 ones
    assert ensure_corpus_embeddings(small_store, Embedder(tiny, precision="fp32")) == 0
    tables = {small_store.embeddings_name(fp32.key), small_store.embeddings_name(bf16.key)}
    assert tables <= set(small_store.table_names()) and len(tables) == 2


@pytest.mark.parametrize("has_bf16", [True, False])
def test_cross_encoder_scoring_runs_in_the_inference_precision(native, tiny, tmp_path, has_bf16):
    from sentence_transformers import CrossEncoder

    from core.labeling.judge import load_cross_encoder
    from core.training.cross_encoder import Reranker, score_pairs

    native(has_bf16)
    CrossEncoder(tiny, num_labels=1, device="cpu").save(str(tmp_path / "ce"))
    pairs = [("gold hmo deductible", "The Gold HMO plan for 2025 has a deductible of $750."), ("what is an HSA", "An HSA pairs with a plan.")]
    fresh = CrossEncoder(str(tmp_path / "ce"), device="cpu")  # as a run scores validation pairs with the model it trained
    reranker = Reranker(str(tmp_path / "ce"))
    scores = {}
    expected = {"torch.bfloat16"} if has_bf16 else {"torch.float32"}
    assert _linear_dtypes(fresh, lambda: scores.update(fresh=score_pairs(fresh, pairs))) == expected
    assert _linear_dtypes(reranker.model, lambda: scores.update(reranker=reranker.scores(pairs[0][0], [pairs[0][1]]))) == expected
    suggester = load_cross_encoder(str(tmp_path / "ce"))  # the Grade page's pre-grades
    assert _linear_dtypes(suggester, lambda: scores.update(suggester=suggester.predict(pairs))) == expected
    assert all(np.isfinite(s).all() for s in scores.values()) and scores["fresh"].dtype == scores["reranker"].dtype == np.float64


def test_embed_precision_flag_picks_the_table(small_store, tiny, native, capsys):
    import json

    from core.commands.main import main

    native(True)
    for flag, key in (("fp32", model_key(tiny)), ("bf16", model_key(tiny) + "_bf16")):
        assert main(["embed", "--model", tiny, "--precision", flag, "--quiet"]) == 0
        result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert (result["precision"], result["model_key"], result["embedded"]) == (flag, key, 12)


def test_a_run_records_the_precision_it_embedded_and_evaluated_in(small_store, workspace, tiny, monkeypatch):
    from core.training import jobs
    from core.training.run import launch

    monkeypatch.setenv(precision.PRECISION_ENV, "bf16")
    job = launch(small_store, workspace, TrainConfig(kind="adapter", base_model=tiny, max_steps=1))
    assert job.wait(240) == "succeeded", jobs.read_run(small_store, job.run_id)["error"]
    assert jobs.read_run(small_store, job.run_id)["snapshot"]["inference_precision"] == "bf16"
    assert small_store.embeddings_name(model_key(tiny) + "_bf16") in small_store.table_names()


def test_a_copy_of_a_bf16_model_runs_its_own_weights(tiny):
    """Quantisation and other tools deep-copy the model: the copy's forward must be the copy's."""
    import copy

    import torch

    model = Embedder(tiny, precision="bf16").model
    clone = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in clone.parameters():
            parameter.zero_()
    texts = ["gold hmo deductible", "what is an HSA"]
    assert not np.allclose(clone.encode(texts), model.encode(texts), atol=1e-3)
    assert _linear_dtypes(clone, lambda: clone.encode(texts)) == {"torch.bfloat16"}
