"""AppTest: the Results page's 'What more labels will buy' section and Home's next step, on a seeded curve."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import numpy as np
from streamlit.testing.v1 import AppTest

from core.evaluation.metrics import ALL
from core.settings import Settings
from core.storage.schemas import CurvePoint, Judgment, Run, RunKind, now
from core.storage.store import Store
from core.training import curve
from core.training.curvefit import power_law
from tests.conftest import ROOT
from tests.results_seed import seed_results
from ui import results_view

SIZES = {0.25: 40, 0.5: 80, 0.75: 120, 1.0: 160}


def seed_curve(store: Store, settings: Settings, queries: list[str], params=(0.8, 1.2, 0.5), run_id: str = "c-1", by: str = "queries",
               judgments: dict[float, int] | None = None) -> None:
    """A finished default curve on today's labels: three seeds per fraction, per-query values around the given curve
    (of train queries, or by judgments of the judgment counts given per fraction)."""
    config = curve.CurveConfig(by=by).resolved()
    store.add("runs", [Run(run_id=run_id, kind=RunKind.curve.value, base_model="bundled", status="succeeded", config=json.dumps(asdict(config)),
                           snapshot=json.dumps({"key": curve.labels_key(store, settings, config)}), created_at=now(), finished_at=now())])
    rng = np.random.default_rng(0)
    rows = []
    for fraction, n in [(0.0, 0)] + list(SIZES.items()):
        for seed in range(1 if fraction == 0 else 3):
            size = (judgments or {}).get(fraction, 0) if by == "judgments" else n
            mean = 0.5 if fraction == 0 else float(power_law(size, *params))
            per_query = {q: {m: float(np.clip(mean + rng.normal(0, 0.1), 0, 1)) for m in ALL} for q in queries}
            values = {m: float(np.mean([v[m] for v in per_query.values()])) for m in ALL}
            rows.append(CurvePoint(run_id=run_id, fraction=fraction, seed=seed, train_queries=n, train_pairs=n, values=json.dumps(values),
                                   per_query=json.dumps(per_query),
                                   counts=json.dumps({"train_judgments": judgments[fraction]}) if judgments else ""))
    store.add("curve_points", rows)


def results_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "results.py"), default_timeout=60)
    at.session_state["results_tab"] = results_view.TABS[0]
    at.run()
    assert not at.exception, at.exception
    return at


def test_results_section_shows_the_curve_sentence_and_guidance(store, workspace):
    info = seed_results(store)
    seed_curve(store, workspace, info["queries"])
    at = results_page()
    assert "What more labels will buy" in [h.value for h in at.subheader]
    sentence = next(m.value for m in list(at.success) + list(at.info) if "graded train queries" in m.value)
    assert "About 160 more graded train queries (2x today's 160) → nDCG@10" in sentence
    assert any(c.key == "chart_label_curve" for c in at.get("plotly_chart"))
    assert any("Backtest" in c.value or "Not informative" in c.value for c in at.caption)
    assert any("eval queries" in m.value and "95% CI" in m.value for m in at.markdown)
    assert not at.warning  # the curve is on today's labels
    buttons = [b.label for b in at.button]
    assert "Grade more train queries (ungraded first)" in buttons
    # Another metric refits the same stored points.
    at.selectbox(key="curve_metric").set_value("recall@10").run()
    assert not at.exception and any("Recall@10" in m.value for m in list(at.success) + list(at.info))


def test_changed_labels_mark_the_curve_stale(store, workspace):
    info = seed_results(store)
    seed_curve(store, workspace, info["queries"])
    stamp = now()
    store.upsert("judgments", [Judgment(query_id=info["queries"][0], doc_id="d30", reviewer="ann", grade=2, created_at=stamp, updated_at=stamp)])
    at = results_page()
    assert any("labels changed since this curve" in w.value for w in at.warning)
    assert any(b.label == "Re-run the learning curve" for b in at.button)


def test_home_next_step_uses_the_curve(store, workspace):
    info = seed_results(store)
    seed_curve(store, workspace, info["queries"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    step = next(i.value for i in at.info if "Next:" in i.value)
    assert "more graded train queries" in step and "nDCG@10" in step


def test_train_page_names_a_running_curve_and_does_not_list_it(small_store):
    small_store.add("runs", [Run(run_id="c-live", kind=RunKind.curve.value, base_model="bundled", status="running", pid=os.getpid(),
                                 created_at=now())])
    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("learning curve (`c-live`) is running" in i.value for i in at.info)
    assert any(c.value == "No runs yet." for c in at.caption)
    assert next(b for b in at.button if b.label == "Train").disabled  # one job at a time


def test_segment_guidance_opens_the_grade_queue_of_that_segment(store, workspace):
    info = seed_results(store)
    seed_curve(store, workspace, info["queries"])
    logged = info["queries"][:10]
    store.update_where("queries", "query_id IN (" + ",".join(f"'{q}'" for q in logged) + ")", {"source": "log"})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["reviewer"], at.session_state["g_mode"] = "ann", "full-text"
    at.session_state["results_tab"] = results_view.TABS[0]
    at.run()
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    label = next(b.label for b in at.button if b.key and b.key.startswith("curve_seg_") and "source: log" in b.label)
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    assert dict(at.query_params) | {"reviewer": ""} == {"queue": "segment", "segment": "split:eval,source:log", "reviewer": ""}
    assert [t.value for t in at.title] == ["Grade relevance"]
    assert at.selectbox(key="g_strategy").value == "one segment, least judged first"
    assert at.selectbox(key="g_segment").value == "split:eval,source:log"
    shown = next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1]
    assert shown in logged


def test_results_section_compares_the_curves_by_queries_and_by_judgments(store, workspace):
    info = seed_results(store)
    seed_curve(store, workspace, info["queries"], params=(0.8, 2.0, 0.5), judgments={0.0: 0, 0.25: 120, 0.5: 240, 0.75: 360, 1.0: 480})
    at = results_page()
    assert next(b for b in at.button if b.key == "curve_by_judgments").disabled  # seed_results leaves a run running: one job at a time
    assert not any(c.key == "chart_label_depth" for c in at.get("plotly_chart"))
    store.update_where("runs", "run_id = 'r-running'", {"status": "failed"})
    assert not next(b for b in results_page().button if b.key == "curve_by_judgments").disabled
    # The same law, but of judgments (every query kept) where the curve by queries follows train queries (a third of its
    # judgment count): at equal judgments the curve by judgments is well above it, beyond the seeds' spread.
    seed_curve(store, workspace, info["queries"], params=(0.8, 2.0, 0.5), run_id="c-2", by="judgments",
               judgments={0.0: 0, 0.25: 200, 0.5: 300, 0.75: 400, 1.0: 480})
    at = results_page()
    sentence = next(m.value for m in at.success if "per judgment" in m.value)
    assert sentence.startswith("On this data more queries judged shallowly buys more nDCG@10 per judgment")
    assert any(c.key == "chart_label_depth" for c in at.get("plotly_chart"))
    assert not any(b.key == "curve_by_judgments" for b in at.button)
