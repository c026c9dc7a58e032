"""The demo loads with the promised counts; the CLI drives the same core functions; core has no streamlit."""

from __future__ import annotations

import json
import re

import pytest

from core.commands.main import main
from core.storage.demo import DEMO_DIR, load_demo
from core.storage.status import status
from tests.conftest import SHARED


def bar_counts(err: str, phase: str) -> set[str]:
    """The n/total counts that a phase's tqdm bar showed on stderr (one line a redraw)."""
    return set(re.findall(rf"(?:^|[\r\n]){re.escape(phase)}:[^\r\n]*?(\d+/\d+) \[", err))


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
    captured = capsys.readouterr()
    assert json.loads(captured.out)["judgments"] == 1612
    assert "reading and checking cranfield [" in captured.err and bar_counts(captured.err, "writing documents") >= {"0/1400", "1400/1400"}
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


def test_cli_bars_show_each_phase_its_count_and_note_on_stderr_and_quiet_shows_none(capsys):
    from core.commands.output import Bars

    with Bars("working") as progress:
        progress(0, 0, "loading model")
        progress(0, 0)  # leaf work that only counts goes on with the current phase
        progress(0, 10, "training")
        progress(5, 10, note="loss 0.5")
        progress(10, 10)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays for the JSON
    lines = captured.err.replace("\r", "\n")
    assert "loading model [" in lines and "working" not in lines
    assert "training: 100%" in lines and "10/10" in lines and "loss 0.5" in lines
    with Bars("working", quiet=True) as progress:
        progress(0, 10, "training")
        progress(10, 10)
    assert capsys.readouterr().err == ""


def test_cli_embed_and_generate_show_progress_on_stderr_and_json_on_stdout(small_store, workspace, capsys):
    assert main(["embed"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["embedded"] == 12
    assert bar_counts(captured.err, "embedding documents") >= {"0/12", "12/12"}
    assert main(["generate", "--n", "3"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["documents"] == 3
    assert bar_counts(captured.err, "writing queries") >= {"0/3", "3/3"}  # one count a document
    assert main(["--quiet", "generate", "--n", "2"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["documents"] == 2
    assert "writing queries" not in captured.err and "note: no LLM provider" in captured.err  # notes still come
