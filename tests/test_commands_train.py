"""`flywheel split | train | eval | runs` through the real CLI entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from core.commands.main import main
from tests.conftest import ROOT
from tests.test_demo_and_cli import bar_counts
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_eval_runs_split(small_store, workspace, tiny, capsys):
    assert main(["train", "--kind", "adapter", "--base-model", tiny, "--max-steps", "3"]) == 0
    result = last_json(capsys)
    assert result["status"] == "succeeded" and result["run_id"]
    names = {f"{n}@{k}" for n in ("recall", "precision", "mrr", "ndcg", "map") for k in (1, 3, 5, 10, 20)}
    assert set(result["before"]) == names == set(result["after"])
    assert set(result["baselines"]) == {"bm25", "dense", "hybrid"} and result["baselines"]["dense"] == {
        k: v for k, v in result["before"].items() if k in result["baselines"]["dense"]}
    assert result["pipeline"]["stages"] in (["dense"], ["bm25", "dense"]) and 0 <= result["pipeline"]["fusion_weight"] <= 1
    assert main(["eval", "--run", result["run_id"]]) == 0  # the saved pipeline serves what the run measured as "after"
    evaluated = last_json(capsys)
    assert evaluated["eval_queries"] == 4 and evaluated["metrics"] == result["after"]
    assert [r["name"] for r in evaluated["ladder"]] == ["bm25", "dense", "hybrid"]
    assert main(["search", "--run", result["run_id"], "--k", "3", "silver deductible"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [h["rank"] for h in hits] == [1, 2, 3] and all(h["doc_id"] and "score" in h for h in hits)
    assert main(["runs"]) == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert runs[0]["run_id"] == result["run_id"] and runs[0]["status"] == "succeeded" and "after_recall@10" in runs[0]
    assert main(["split", "--reset", "--eval-fraction", "0.5", "--seed", "1"]) == 0
    assert last_json(capsys) == {"splits": {"train": 4, "eval": 4, "none": 0}, "leaked_texts": 0}


def test_train_failure_exits_nonzero_with_json(small_store, workspace, capsys):
    assert main(["train", "--kind", "bi-encoder", "--base-model", "/no/such/model", "--max-steps", "1"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["status"] == "failed"
    assert "cannot load embedding model" in captured.err
    assert main(["train", "--kind", "adapter", "--epochs", "-1"]) == 2  # refused before any run exists


def test_warm_start_flags_leave_the_default_alone_unless_given():
    from core.commands.main import build_parser

    parse = build_parser().parse_args
    assert parse(["train", "--kind", "cross-encoder"]).warm_start is None  # TrainConfig's default applies
    assert parse(["train", "--kind", "cross-encoder", "--warm-start"]).warm_start is True
    assert parse(["train", "--kind", "cross-encoder", "--no-warm-start"]).warm_start is False
    assert parse(["train", "--kind", "cross-encoder"]).pretrain is None
    assert parse(["train", "--kind", "cross-encoder", "--pretrain"]).pretrain is True
    assert parse(["train", "--kind", "cross-encoder"]).cross_encoder_loss is None
    assert parse(["train", "--kind", "cross-encoder", "--cross-encoder-loss", "lambda"]).cross_encoder_loss == "lambda"


def test_train_shows_each_phase_with_a_moving_count_eta_and_loss_and_quiet_shows_none(small_store, workspace, tiny, capsys):
    assert main(["train", "--kind", "adapter", "--base-model", tiny, "--max-steps", "30"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["status"] == "succeeded"
    assert bar_counts(captured.err, "embedding the corpus") >= {"0/12", "12/12"}
    assert bar_counts(captured.err, "training") >= {"0/30", "30/30"}
    assert re.search(r"training: 100%[^\r\n]*30/30 \[\d\d:\d\d<\d\d:\d\d, [^\r\n]*loss \d", captured.err)  # time, ETA, loss
    for phase in ("loading model", "evaluating before", "evaluating after"):
        assert f"{phase} [" in captured.err
    assert main(["train", "--kind", "adapter", "--base-model", tiny, "--max-steps", "3", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["status"] == "succeeded"
    assert "training" not in captured.err and "embedding the corpus" not in captured.err


def test_a_trainer_prints_no_log_dicts_and_the_libraries_no_bars(small_store, workspace, tiny):
    """In a fresh process, as a terminal user runs it: stdout is JSON lines only (the Trainer printed
    {'loss': …, 'grad_norm': …} there), stderr the CLI's bars without the libraries' own."""
    done = subprocess.run([sys.executable, "-m", "core.commands.main", "train", "--kind", "bi-encoder", "--base-model", tiny, "--max-steps", "2",
                           "--batch-size", "4"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["status"] for line in done.stdout.strip().splitlines()] == ["succeeded"]
    assert bar_counts(done.stderr, "training") >= {"0/2", "2/2"}
    assert "Loading weights" not in done.stderr and "Computing" not in done.stderr
