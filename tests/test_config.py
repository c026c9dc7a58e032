"""Training settings are described once: the checks, the CLI flags and the Train page's limits
all read TrainConfig's field metadata, so they cannot disagree (epochs <= 1000 in the config
and <= 200 on the page, before)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from core.commands.main import build_parser
from core.errors import InputError
from core.training.config import TrainConfig, bounds, cli_options


def test_every_bound_is_the_one_the_check_applies():
    for spec in fields(TrainConfig):
        low, high = bounds(spec.name)
        kind = spec.metadata["kind"]
        if high is not None:
            TrainConfig(kind="adapter", **{spec.name: kind(high)}).resolved()  # the page's maximum is accepted
            with pytest.raises(InputError, match=f"train expects {spec.name} to be"):
                TrainConfig(kind="adapter", **{spec.name: kind(high) + 1}).resolved()
        if low is not None:
            TrainConfig(kind="adapter", **{spec.name: kind(low)}).resolved()


def test_the_cli_has_a_flag_for_every_exposed_field_with_its_help():
    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    flags = {option: action for action in train._actions for option in action.option_strings}
    for flag, (name, kind, text) in cli_options().items():
        assert flags[flag].help == text and flags[flag].type is kind and flags[flag].dest in (name, flag[2:].replace("-", "_")), flag
    assert train.parse_args(["--epochs", "2.5"]).epochs == 2.5


def test_the_train_page_limits_come_from_the_config():
    from tests.conftest import ROOT

    page = (ROOT / "pages" / "train.py").read_text()
    assert "max_value=200.0" not in page and page.count("bounds(") >= 5
