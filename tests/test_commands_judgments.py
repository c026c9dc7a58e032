from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.commands.main import main
from core.labeling import grading
from core.storage.store import Store


def test_judgments_summary(small_store, workspace, capsys):
    for doc, (a, b) in {"d1": (5, 4), "d2": (0, 0), "d3": (1, 3)}.items():
        grading.grade(small_store, "ann", "q1", doc, a, hard_negative=doc == "d2")
        grading.grade(small_store, "bob", "q1", doc, b)
    assert main(["--workspace", workspace.workspace, "judgments"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["judgments"], out["by_people"], out["imported"]) == (22, 6, 16)
    assert out["queries_graded"] == 1 and out["gradeable_queries"] == 8
    assert out["hard_negatives"] == 4 + 1
    assert sum(out["grades"].values()) == 22
    agreement = out["agreement"]
    assert agreement["items"] == 3 and agreement["exact"] == pytest.approx(1 / 3) and agreement["within_one"] == pytest.approx(2 / 3)
    assert [(p["reviewer_a"], p["reviewer_b"]) for p in agreement["pairs"]] == [("ann", "bob")]
    assert {r["reviewer"]: r["judgments"] for r in out["reviewers"]} == {"ann": 3, "bob": 3}


def test_judgments_summary_on_an_empty_workspace(workspace, capsys):
    assert main(["--workspace", workspace.workspace, "judgments"]) == 2  # a read-only command makes no workspace
    assert "expects an existing workspace" in capsys.readouterr().err and not Path(workspace.workspace).exists()
    Store(workspace.db_uri)
    assert main(["--workspace", workspace.workspace, "judgments"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["judgments"] == 0 and out["agreement"]["krippendorff_alpha_ordinal"] is None
