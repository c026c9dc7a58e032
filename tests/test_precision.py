"""Training precision: bf16 autocast only where the hardware has it, float32 weights either way."""

import pytest

from core.errors import InputError
from core.training import precision
from core.training.callbacks import trainer_arguments
from core.training.config import TrainConfig


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return str(path)


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    assert precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "avx512f avx512_bf16"))
    assert precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "amx_bf16 amx_tile"))
    assert not precision.cpu_has_native_bf16.__wrapped__(_cpuinfo(tmp_path, "avx512f avx512bw"))  # emulated there: slower
    assert not precision.cpu_has_native_bf16.__wrapped__(str(tmp_path / "missing"))


@pytest.mark.parametrize("native", [True, False])
def test_auto_trains_in_bf16_on_the_cpu_only_where_it_is_native(monkeypatch, tmp_path, native):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    args = trainer_arguments(TrainConfig().resolved(), tmp_path, rows=100, metric_key="")
    assert (args.get("bf16"), args.get("use_cpu")) == ((True, True) if native else (None, None))
    forced = trainer_arguments(TrainConfig(precision="fp32").resolved(), tmp_path, rows=100, metric_key="")
    assert "bf16" not in forced


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(InputError, match="precision to be 'auto' or 'fp32' or 'bf16', but got 'fp16'"):
        TrainConfig(precision="fp16").resolved()
