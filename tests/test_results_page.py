from __future__ import annotations

from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.results_seed import seed_results
from ui import results_view
from ui.grading import TARGET as GRADE_TARGET

PAGE = str(ROOT / "pages" / "results.py")


def _page(tab: int = 0) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["results_tab"] = results_view.TABS[tab]
    at.run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, tab: int) -> AppTest:
    at.session_state["results_tab"] = results_view.TABS[tab]
    at.run()
    assert not at.exception, at.exception
    return at


def test_empty_workspace_says_what_to_do(store):
    at = _page()
    assert "No evaluated run yet" in at.info[0].value
    assert not at.get("plotly_chart")


def test_every_section_renders_with_seeded_runs(store):
    info = seed_results(store)
    at = _page()
    assert at.selectbox(key="results_run_id").value == "r-big"  # newest run with results
    assert "r-running" not in at.selectbox(key="results_run_id").options
    assert any("`r-running` is still training" in c.value for c in at.caption)
    assert [m.label for m in at.metric] == ["Recall@10 before", "Recall@10 after", "95% CI of the change", "p-value"]
    assert at.metric[0].value == "0.525" and at.metric[1].value == "0.825"
    assert at.success[0].value.startswith("Improved: Recall@10 0.525 → 0.825")
    assert at.metric[1].proto.color == MetricProto.MetricColor.GREEN
    assert "Better on 14 queries, worse on 2, no change on 24." in at.success[0].value
    # charts tab: per-k bars, recall curve, first-rank bars, per-query scatter; only the open tab is drawn
    assert len(at.get("plotly_chart")) == 4 and not at.expander
    # compare tab: run comparison and learning curve over the runs on the same eval set
    _open(at, 1)
    assert len(at.get("plotly_chart")) == 2
    assert not at.warning  # by default only runs on the same eval set are compared
    assert at.dataframe[0].value["run_id"].tolist() == ["r-big", "r-mid", "r-small"]
    assert "Run comparison (CSV)" in {b.label for b in at.get("download_button")}
    # drill-down tab
    _open(at, 2)
    regressed = sorted(q for q in info["queries"] if 0 < info["before"][q] <= 10 < info["after"][q])
    assert [e.label.split(" · ")[0] for e in at.expander] == [f"question number {q[1:]} about the plan" for q in regressed]
    assert at.expander[0].label.endswith("1.00 → 0.00 (-1.00)")
    assert len(at.dataframe) == 3 * len(regressed) + 1  # relevant, top before, top after per query; all queries
    at.segmented_control(key="results_direction").set_value("improved").run()
    assert len(at.expander) == 5 and "0.00 → 1.00" in at.expander[0].label
    # export tab
    _open(at, 3)
    assert {b.label for b in at.get("download_button")} == {"HTML report", "All metrics (CSV)", "Per query, Recall@10 (CSV)"}


def test_metric_chooser_and_run_switch(store):
    seed_results(store)
    at = _page()
    at.segmented_control(key="results_metric").set_value("ndcg").run()
    assert at.metric[0].label == "nDCG@10 before"
    at.segmented_control(key="results_k").set_value(1).run()
    assert at.metric[0].label == "nDCG@1 before"
    at.selectbox(key="results_run_id").set_value("r-small").run()
    assert not at.exception
    assert any("adapter" in c.value for c in at.caption)


def test_mismatched_eval_set_is_flagged_not_compared(store):
    seed_results(store)
    at = _page(tab=1)
    at.multiselect(key="results_compare").set_value(["r-big", "r-other"]).run()
    assert "r-other" in at.warning[0].value and "different eval set" in at.warning[0].value
    table = at.dataframe[0].value.set_index("run_id")
    assert table["same_eval_set"].to_dict() == {"r-big": True, "r-other": False}


def test_drill_down_sends_the_query_to_grade(store, tmp_path, monkeypatch):
    """A stand-in Grade page next to a two-page app: the button stores the query and switches."""
    info = seed_results(store)
    first = sorted(q for q in info["queries"] if 0 < info["before"][q] <= 10 < info["after"][q])[0]
    (tmp_path / "pages").mkdir()
    grade = tmp_path / "pages" / "grade.py"
    grade.write_text("import streamlit as st\nst.markdown('GRADE:' + st.session_state.get('grade_query_id', ''))\n")
    main = tmp_path / "app.py"
    main.write_text(
        "import streamlit as st\n"
        f"st.navigation([st.Page({PAGE!r}, title='Results'), st.Page({str(grade)!r}, title='Grade')]).run()\n"
    )
    at = AppTest.from_file(str(main), default_timeout=60)
    at.session_state["results_tab"] = results_view.TABS[2]
    at.run()
    assert not at.exception, at.exception
    button = at.button(key=[b.key for b in at.button if b.key.startswith("results_grade_0_")][0])
    assert not button.disabled
    button.click().run()
    assert at.session_state["grade_query_id"] == first
    qid, doc = at.session_state[GRADE_TARGET]
    assert qid == first and doc  # the Grade page opens this query, on an ungraded result that now ranks high
    assert f"GRADE:{first}" in [m.value for m in at.markdown]


def test_a_trade_off_reads_as_one_and_no_change_gets_no_arrow(store):
    """Recall@10 up, top-1 and MRR down: an amber trade-off naming both, not a green success (issue 15)."""
    from tests.results_seed import add_run

    info = seed_results(store)
    before = {q: (1 if i % 2 == 0 else 12) for i, q in enumerate(info["queries"])}
    after = {q: (3 if i % 2 == 0 else 5) for i, q in enumerate(info["queries"])}
    add_run(store, "r-mixed", {"before": before, "after": after}, relevant=info["relevant"], seed=9)
    store.update_where("runs", "run_id = 'r-mixed'", {"name": "mixed adapter"})
    at = _page()
    at.selectbox(key="results_run_id").set_value("r-mixed").run()
    assert not at.success and "Got worse: " in at.warning[0].value and "trade-off" in at.warning[0].value
    assert "real improvement" not in at.warning[0].value  # one verdict per run (issue 24)
    gain = next(m for m in at.metric if m.label == "Recall@10 after")
    assert gain.proto.delta.startswith("+0.500") and gain.proto.color == MetricProto.MetricColor.ORANGE  # amber, not green
    assert any(c.value.startswith("Run mixed adapter (") for c in at.caption)
    at.segmented_control(key="results_k").set_value(20).run()  # recall@20 is 1.000 before and after: no change
    after = next(m for m in at.metric if m.label == "Recall@20 after")
    assert after.value == "1.000" and not after.proto.delta  # no arrow for +0.000
