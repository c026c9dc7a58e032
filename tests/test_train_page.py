"""The Train page through AppTest: counts and warnings, split, launch → progress → before/after, failures."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.storage.schemas import Query, now
from core.training import jobs
from tests.conftest import ROOT
from tests.tiny_model import build_tiny_model

PAGE = str(ROOT / "pages" / "train.py")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["reviewer"] = "ann"
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at: AppTest) -> None:
    """Settings are plain widgets: a rerun applies them (counts update before Train is pressed)."""
    at.run()
    assert not at.exception, at.exception


def wait_until_done(store, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline and jobs.active_run(store):
        time.sleep(0.5)
    assert jobs.active_run(store) is None


def test_counts_and_warnings_before_launch(small_store):
    at = page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["train queries"] == "4" and metrics["pairs"] == "4" and metrics["flagged negatives"] == "3" and metrics["eval queries"] == "4"
    assert any("Only 4 training pairs" in w.value for w in at.warning)
    assert not next(b for b in at.button if b.label == "Train").disabled
    assert "No runs yet." in [c.value for c in at.caption]
    assert any("Plus up to 1 negative per query, mined" in c.value for c in at.caption)  # the bi-encoder's default
    at.radio[0].set_value("cross-encoder").run()
    assert any("as many negatives per query as it has positives (at least 3, up to the top 20" in c.value for c in at.caption)


def test_launch_watch_and_see_before_after(small_store, tiny):
    at = page()
    at.radio[0].set_value("adapter")
    at.text_input[0].set_value(tiny)
    at.number_input[3].set_value(5)  # max steps
    submit(at)
    train = next(b for b in at.button if b.label == "Train")
    assert any("Estimated duration: none yet" in c.value for c in at.caption)  # no adapter run measured here yet
    at.text_input(key="train_run_name").set_value("first adapter").run()
    train = next(b for b in at.button if b.label == "Train")
    train.click().run()
    assert not at.exception, at.exception
    run_id = at.session_state["train_run_id"]
    assert jobs.read_run(small_store, run_id)["name"] == "first adapter"
    assert jobs.read_run(small_store, run_id)["config"]["kind"] == "adapter"
    wait_until_done(small_store)
    at.run()
    labels = [m.label for m in at.metric]
    assert "recall@10" in labels and "→" in next(m.value for m in at.metric if m.label == "recall@10")
    assert any(c.value.startswith("Model saved in the workspace's models folder as `") for c in at.caption)
    assert small_store.count("events", f"action = 'launch' AND actor = 'ann' AND target = 'run:{run_id}'") == 1
    assert at.dataframe[0].value["status"].tolist() == ["succeeded"]
    estimate = next(c.value for c in at.caption if c.value.startswith("Estimated duration"))
    assert "from 1 earlier adapter run on this machine" in estimate  # measured by the run that just finished


def test_inputs_show_the_real_defaults_of_each_kind(small_store):
    from core.training.config import DEFAULTS, TrainConfig

    assert DEFAULTS["bi-encoder"]["negatives_per_query"] != DEFAULTS["adapter"]["negatives_per_query"]  # the switch is seen
    at = page()
    for kind in ("bi-encoder", "adapter"):
        at.radio[0].set_value(kind).run()
        values = {n.label: n.value for n in at.number_input}
        assert values["Epochs"] == DEFAULTS[kind]["epochs"] and values["Batch size"] == DEFAULTS[kind]["batch_size"]
        assert values["Learning rate"] == pytest.approx(DEFAULTS[kind]["learning_rate"])
        assert values["Hard negatives per query"] == DEFAULTS[kind]["negatives_per_query"]
        assert next(n for n in at.number_input if n.label == "Learning rate").format == "%.1e"
    warm = next(c for c in at.checkbox if c.label == "Warm start the re-ranker")
    assert warm.value == TrainConfig.warm_start and warm.disabled  # a bi-encoder or adapter has no re-ranker to warm
    at.radio[0].set_value("cross-encoder").run()
    assert not next(c for c in at.checkbox if c.label == "Warm start the re-ranker").disabled


def test_failed_run_is_shown_and_the_page_keeps_working(small_store):
    at = page()
    at.text_input[0].set_value("/no/such/model")
    submit(at)
    next(b for b in at.button if b.label == "Train").click().run()
    name = jobs.read_run(small_store, at.session_state["train_run_id"])["name"]
    assert name.startswith("bi-encoder with ") and " pairs, " in name  # unnamed: a readable default, not the run id (issue 24)
    wait_until_done(small_store)
    at.run()
    assert not at.exception
    assert any("Run failed" in e.value and "cannot load embedding model" in e.value for e in at.error)


def test_assign_split_button(store):
    stamp = now()
    store.add("queries", [Query(query_id=f"q{i}", text=f"query {i}", created_at=stamp) for i in range(10)])
    at = page()
    next(b for b in at.button if b.label == "Assign split").click().run()
    assert not at.exception
    assert store.count("queries", "split = 'eval'") == 3 and store.count("queries", "split = 'train'") == 7


def test_a_cross_encoder_run_says_why_its_results_equal_the_retriever(small_store):
    """Fusion weight 0 makes 'after' identical to 'before': the page explains it instead of leaving a puzzle.
    A run launched elsewhere (the CLI) is shown too: the newest by default, any earlier one on choice."""
    from datetime import timedelta

    from core.storage.schemas import Run

    stamp = now()
    training = {"fusion_weight": 0.0, "retriever_validation_ndcg@10": 0.587, "fused_validation_ndcg@10": 0.587}
    small_store.add("runs", [
        Run(run_id="old", kind="bi-encoder", base_model="m", status="failed", error="CUDA out of memory",
            created_at=stamp - timedelta(hours=1), finished_at=stamp - timedelta(hours=1)),
        Run(run_id="ce", kind="cross-encoder", base_model="m", status="succeeded", model_path="/m",
            progress=json.dumps({"phase": "succeeded", "history": [], "training": training}), created_at=stamp, finished_at=stamp),
    ])
    at = page()
    assert at.selectbox(key="train_run_id").value == "ce"
    assert any("did not clearly beat the retriever" in i.value and "0.587" in i.value for i in at.info)
    at.selectbox(key="train_run_id").set_value("old").run()
    assert not at.exception, at.exception
    assert any("Run failed: CUDA out of memory" in e.value for e in at.error)


def test_a_test_only_import_with_no_split_trains_from_the_page(small_store, tiny):
    """A BEIR folder with only test qrels leaves its queries unassigned: the page must not disable
    Train (seen on a CISI import); pressing it draws the seeded split, then trains."""
    small_store.update_where("queries", "true", {"split": "none"})
    at = page()
    assert any("have no train/eval side yet: Train first draws the seeded 70/30 split" in i.value for i in at.info)
    at.radio[0].set_value("adapter")
    at.text_input[0].set_value(tiny)
    at.number_input[3].set_value(5)  # max steps
    submit(at)
    train = next(b for b in at.button if b.label == "Train")
    assert not train.disabled
    train.click().run()
    assert not at.exception, at.exception
    wait_until_done(small_store)
    run = jobs.read_run(small_store, at.session_state["train_run_id"])
    assert run["status"] == "succeeded", run["error"]
    assert small_store.count("queries", "split = 'none'") == 0
    pairs = run["snapshot"]["train_pairs"]
    assert pairs > 0 and run["name"].startswith(f"adapter with {pairs} pairs")  # counted after the split, not "0 pairs"
