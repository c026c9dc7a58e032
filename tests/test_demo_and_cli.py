"""The demo loads with the promised counts; the CLI drives the same core functions; core has no streamlit."""

from __future__ import annotations

import json

import pytest

from core.commands.main import main
from core.storage.demo import DEMO_DIR, load_demo
from core.storage.status import status
from tests.conftest import SHARED


def test_demo_loads_once_with_its_counts(store):
    result = load_demo(store)
    lines = lambda p: sum(1 for line in p.read_text().splitlines() if line.strip())  # noqa: E731
    assert result.documents == lines(DEMO_DIR / "corpus.jsonl") >= 300
    assert result.queries == lines(DEMO_DIR / "queries.jsonl") >= 150
    qrels = lines(DEMO_DIR / "qrels" / "train.tsv") + lines(DEMO_DIR / "qrels" / "test.tsv") - 2
    assert result.judgments == qrels
    assert result.splits["train"] > 0 and result.splits["eval"] > 0 and result.hard_negatives > 0
    assert load_demo(store) is None  # already there: nothing written twice
    assert status(store)["documents"] == result.documents


def test_cli_import_export_status(workspace, tmp_path, capsys):
    assert main(["import", str(SHARED / "cranfield")]) == 0
    assert json.loads(capsys.readouterr().out)["judgments"] == 1612
    assert main(["export", "--format", "beir", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["documents"] == 1400 and counts["judged_queries"] == 225


def test_cli_bad_input_exits_2_with_the_reason(workspace, tmp_path, capsys):
    (tmp_path / "x.txt").write_text("hello")
    assert main(["import", str(tmp_path / "x.txt")]) == 2
    assert "expects a BEIR folder, a .zip, a .jsonl or a .csv" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["status"], ["export", "--format", "beir", "--out", "x"], ["judgments"], ["runs"], ["review-status"]])
def test_read_only_commands_never_create_a_workspace(tmp_path, capsys, command):
    missing = tmp_path / "typo"
    assert main(["--workspace", str(missing), *command]) == 2
    assert "expects an existing workspace" in capsys.readouterr().err
    assert not missing.exists()
