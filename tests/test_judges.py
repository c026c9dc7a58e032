"""Judges against people: agreement figures, held-out scoring, Kendall tau of systems, the CLI, track records."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from core.commands.main import main
from core.errors import InputError
from core.evaluation import judges
from core.labeling import grading
from core.labeling import judge as suggestions
from core.storage.schemas import QueryResult, Run, Suggestion, now
from core.training import estimates
from core.training.pipeline import PipelineSpec
from tests.tiny_model import build_tiny_model

EVAL, TRAIN = ["q5", "q6", "q7", "q8"], ["q1", "q2", "q3", "q4"]
PEOPLE = {("q5", "d10"): 5, ("q5", "d11"): 1, ("q5", "d1"): 0, ("q6", "d3"): 4, ("q6", "d1"): 0, ("q6", "d2"): 2,
          ("q7", "d6"): 5, ("q7", "d7"): 2, ("q8", "d12"): 3, ("q8", "d5"): 0}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def fake(name: str, grade, scope=None) -> judges.Judge:
    """A judge whose grade is a function of the pair (and people's grade, when it has one)."""
    return judges.Judge(name, "fake", lambda pairs: {p: int(grade(p)) for p in pairs}, "a fake judge", scope)


def people(store, reviewer: str = "ann", grades=PEOPLE) -> None:
    for (q, d), g in grades.items():
        grading.grade(store, reviewer, q, d, g)


def test_agreement_figures_against_people(small_store):
    people(small_store)
    off_by_one = {p: min(5, g + 1) for p, g in PEOPLE.items()}
    found = judges.agreement(small_store, fake("kind", lambda p: off_by_one[p], set(EVAL)))
    truth, guess = np.array(list(PEOPLE.values())), np.array([off_by_one[p] for p in PEOPLE])
    assert (found.pairs, found.queries) == (10, 4)
    assert found.exact == pytest.approx(0.2) and found.within_one == 1.0 and found.mae == pytest.approx(0.8)  # two 5s stay 5
    assert found.kappa == pytest.approx(cohen_kappa_score(truth, guess, weights="quadratic", labels=list(range(6))))
    assert found.kappa_binary == pytest.approx(cohen_kappa_score(truth >= 3, guess >= 3))
    assert found.base_rate == pytest.approx(0.4) and found.judge_rate == pytest.approx(0.6)  # the two 2s became 3s
    assert sum(map(sum, found.confusion)) == 10 and found.confusion[5][5] == 2 and found.confusion[2][3] == 2
    assert "100% within one grade (20% exactly) on 10 pairs of 4 queries; a fake judge" in found.words()


def test_imports_are_not_people_and_accepted_grades_are_left_out(small_store):
    judge = fake("same", lambda p: 5)
    assert judges.agreement(small_store, judge).pairs == 0  # only imported qrels so far
    assert judges.agreement(small_store, judge, include_imports=True).pairs == 16
    grading.grade(small_store, "ann", "q5", "d10", 5, origin="same")
    found = judges.agreement(small_store, judge)
    assert found.pairs == 0 and found.left_out_accepted == 1


def add_systems(store, systems: dict[str, dict[str, list[str]]]) -> None:
    rows = [QueryResult(run_id="r0", stage=stage, query_id=q, first_relevant_rank=0, values="{}",
                        ranking=json.dumps([[d, 1.0 - i / 10] for i, d in enumerate(docs)]))
            for stage, per_query in systems.items() for q, docs in per_query.items()]
    store.add("query_results", rows)


def test_kendall_tau_orders_the_stored_systems_like_people(small_store):
    people(small_store)
    best = {"q5": ["d10", "d11"], "q6": ["d3", "d2"], "q7": ["d6", "d7"], "q8": ["d12", "d5"]}
    middle = {"q5": ["d11", "d10"], "q6": ["d2", "d3"], "q7": ["d7", "d6"], "q8": ["d5", "d12"]}
    worst = {"q5": ["d1", "d4"], "q6": ["d1", "d4"], "q7": ["d4", "d1"], "q8": ["d4", "d1"]}
    add_systems(small_store, {"best": best, "middle": middle, "worst": worst})
    honest = judges.agreement(small_store, fake("honest", lambda p: PEOPLE.get(p, 0), set(EVAL)))
    assert (honest.tau, honest.systems) == (pytest.approx(1.0), 3)
    favours = {(q, d): 5 for q, docs in worst.items() for d in docs} | {(q, docs[0]): 2 for q, docs in middle.items()}
    backwards = judges.agreement(small_store, fake("backwards", lambda p: favours.get(p, 0), set(EVAL)))
    assert backwards.tau == pytest.approx(-1.0)


@pytest.fixture
def runs(small_store, workspace, tiny):
    """A cross-encoder run and a bi-encoder run saved from the tiny model, each with a dense pipeline."""
    from sentence_transformers import CrossEncoder

    stamp = now()
    for run_id, kind in (("ce1", "cross-encoder"), ("bi1", "bi-encoder")):
        folder = workspace.models_dir / run_id
        if kind == "cross-encoder":
            CrossEncoder(tiny, num_labels=1, device="cpu").save(str(folder / "model"))
        else:
            shutil.copytree(tiny, folder / "model")
        PipelineSpec(["dense"], dense_model=tiny, workspace=small_store.uri).save(folder)
        small_store.add("runs", [Run(run_id=run_id, kind=kind, base_model=tiny, status="succeeded", model_path=str(folder / "model"),
                                     created_at=stamp, finished_at=stamp)])
    people(small_store)
    people(small_store, "bob", {(q, f"d{i}"): (q == "q1") * 5 for q in TRAIN for i in range(1, 7)})  # 24 train pairs: score maps fit
    return small_store


def test_every_kind_of_judge_grades_eval_queries_only(runs):
    assert judges.sources(runs) == ["cross-encoder:ce1", "pipeline:ce1", "bi-encoder:bi1", "pipeline:bi1", "retriever"]
    for source in judges.sources(runs):
        judge = judges.make(runs, source, pipeline=lambda folder: estimates.load_pipeline(folder, runs))
        assert judge.allowed(EVAL + TRAIN) == EVAL and "eval-split" in judge.held_out
        grades = judge.grades([("q5", "d10"), ("q6", "d3")])
        assert set(grades) == {("q5", "d10"), ("q6", "d3")} and all(0 <= g <= 5 for g in grades.values())
        found = judges.agreement(runs, judge)
        assert found.pairs == 10 and found.queries == 4  # people's train grades are never scored


def test_a_judge_name_says_what_is_wrong(runs):
    with pytest.raises(InputError, match="kind cross-encoder.*bi-encoder run"):
        judges.make(runs, "cross-encoder:bi1")
    with pytest.raises(InputError, match="succeeded run 'nope'"):
        judges.make(runs, "bi-encoder:nope")
    with pytest.raises(InputError, match="one of llm, cross-encoder:RUN"):
        judges.make(runs, "oracle")
    runs.delete("judgments", "reviewer = 'bob'")
    with pytest.raises(InputError, match="at least 20 graded train-split pairs, but got 9"):
        judges.make(runs, "retriever")


def test_cli_judges_and_estimate_on_a_trained_run(runs, workspace, capsys):
    assert main(["--workspace", workspace.workspace, "judges", "--judge", "cross-encoder:ce1"]) == 0
    found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["judges"][0]
    assert found["judge"] == "cross-encoder:ce1" and found["pairs"] == 10 and len(found["confusion"]) == 6
    args = ["--workspace", workspace.workspace, "estimate", "--run", "ce1", "--judge", "cross-encoder:ce1", "--include-imports"]
    assert main(args + ["--audit-size", "3"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) >= {"metric", "judge", "audit_queries", "queries", "ppi", "classical", "effective_queries", "correlation", "used_ppi"}
    assert (out["metric"], out["audit_queries"], out["queries"]) == ("ndcg@10", 3, 4)
    assert out["classical"]["low"] <= out["classical"]["estimate"] <= out["classical"]["high"]
    assert main(args + ["--audit-size", "3", "--against", "base", "--metric", "recall@10"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["against"] == "base"
    assert main(args[:-1] + ["--metric", "ndcg@7"]) == 2
    assert main(args[:-1]) == 2  # without imports nothing is audited yet
    assert "at least 3 audit queries graded in full, but got 0" in capsys.readouterr().err


def test_the_estimate_uses_the_audit_prefix_and_people_there(runs):
    honest = fake("honest", lambda p: PEOPLE.get(p, 0), set(EVAL))
    found = estimates.estimate(runs, "ce1", honest, include_imports=True, audit_size=3)
    assert found["audit_queries"] == 3 and found["queries"] == 4 and found["accepted_suggestions_in_audit"] == 0
    # the classical estimate is people's mean over the audit queries: each query's nDCG@10 of the run's ranking
    assert 0.0 <= found["classical"]["estimate"] <= 1.0 and found["held_out"] == "a fake judge"


def test_track_records_score_model_agents_on_eval_queries_only(small_store):
    people(small_store)
    grading.grade(small_store, "ann", "q1", "d1", 5)  # a train query: a model trained on it
    stamp = now()
    rows = [("cross-encoder:r1", "q5", "d10", 4), ("cross-encoder:r1", "q6", "d3", 0), ("cross-encoder:r1", "q1", "d1", 5),
            ("llm:x@judge-v1", "q1", "d1", 5), ("retriever", "q5", "d10", None)]
    small_store.add("suggestions", [Suggestion(query_id=q, doc_id=d, agent=a, grade=g, created_at=stamp) for a, q, d, g in rows])
    records = suggestions.track_records(small_store)
    assert set(records) == {"cross-encoder:r1", "llm:x@judge-v1"}
    assert records["cross-encoder:r1"] == {"pairs": 2, "exact": 0.0, "within_one": 0.5, "held_out": True}
    assert records["llm:x@judge-v1"]["pairs"] == 1 and records["llm:x@judge-v1"]["exact"] == 1.0
    words = suggestions.record_words(records["cross-encoder:r1"])
    assert "agrees with people 50% within one grade" in words and "did not train on" in words
    assert suggestions.record_words(None) == ""


def test_agreement_page_scores_a_judge_beside_the_reviewers(runs):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "agreement.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert at.multiselect(key="a_judges").options == ["cross-encoder:ce1", "pipeline:ce1", "bi-encoder:bi1", "pipeline:bi1", "retriever"]
    at.multiselect(key="a_judges").set_value(["cross-encoder:ce1"])
    at.toggle(key="a_judges_on").set_value(True)
    at.run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**cross-encoder:ce1** · Agrees with people" in text and "eval-split queries only" in text
    assert {m.label for m in at.metric} >= {"κ (quadratic)", "κ (relevant or not)", "Kendall τ of systems", "Mean absolute error"}


def test_results_page_estimates_a_run_with_a_judge(runs, workspace):
    from streamlit.testing.v1 import AppTest

    from core.evaluation import metrics
    from core.labeling.labels import graded_qrels
    from tests.conftest import ROOT

    ids = metrics.eval_query_ids(runs)
    ranked = estimates.run_rankings(runs, "ce1", ids)
    for stage in ("before", "after"):
        metrics.save_stage(runs, "ce1", stage, graded_qrels(runs, ids), ranked, 1)
    assert set(estimates.shipped_runs(runs)) == {"ce1", "bi1"}
    at = AppTest.from_file(str(ROOT / "pages" / "results.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any("0 of 4 eval-split queries graded in full" in c.value for c in at.caption)
    at.selectbox(key="e_judge").set_value("cross-encoder:ce1")
    at.toggle(key="e_imports").set_value(True)
    at.toggle(key="e_on").set_value(True)
    at.run()
    assert not at.exception, at.exception
    assert any("audit sample alone" in m.label for m in at.metric)
    assert any("alone answer it" in i.value for i in at.info)  # all 4 eval queries are audited: no judge needed


def test_the_llm_judge_through_the_providers_api(small_store, workspace, monkeypatch, capsys):
    from tests.http_stub import serve
    from tests.test_judge import OpenAIStub

    people(small_store)
    OpenAIStub.requests, OpenAIStub.status = [], 200
    with serve(OpenAIStub) as url:
        monkeypatch.setenv("FLYWHEEL_LLM", "openai/judge-mini")
        monkeypatch.setenv("FLYWHEEL_LLM_BASE_URL", url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        base = ["--workspace", workspace.workspace, "judges", "--judge", "llm"]
        assert main(base) == 2  # nothing stored, not allowed to ask
        assert "expects stored LLM grades or a configured LLM" in capsys.readouterr().err
        assert main(base + ["--ask", "--max-calls", "4"]) == 0
        first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["judges"][0]
        assert len(OpenAIStub.requests) == 4 and (first["pairs"], first["ungraded"]) == (4, 6)
        assert main(base + ["--ask"]) == 0  # asks only for the 6 pairs it has not graded
        found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["judges"][0]
    assert len(OpenAIStub.requests) == 10 and (found["pairs"], found["ungraded"]) == (10, 0)
    assert "never trained on this workspace" in found["held_out"]
    assert small_store.count("suggestions", "agent = 'llm:openai/judge-mini@judge-v1'") == 10
    assert main(base) == 0  # stored grades are enough now, without asking
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["judges"][0]["pairs"] == 10


def test_grade_shows_the_judges_track_record_beside_its_suggestion(small_store):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "grade.py"), default_timeout=120)
    at.session_state["reviewer"], at.session_state["g_mode"], at.session_state["g_k"] = "ann", "full-text", 3
    at.run()
    query = next(c.value for c in at.caption if c.value.startswith("Query `")).split("`")[1]
    doc = next(c.value for c in at.caption if c.value.startswith("`d")).strip("`")
    graded = next(p for p in [("q6", "d3"), ("q7", "d6")] if p != (query, doc))  # an eval pair people graded, not the one shown
    grading.grade(small_store, "bob", *graded, 5)
    stamp = now()
    small_store.upsert("suggestions", [Suggestion(query_id=graded[0], doc_id=graded[1], agent="cross-encoder:r1", grade=4.0, created_at=stamp),
                                       Suggestion(query_id=query, doc_id=doc, agent="cross-encoder:r1", grade=3.0, created_at=stamp)])
    at.toggle(key="g_suggest").set_value(True).run()
    assert not at.exception, at.exception
    shown = [c.value.replace("\\", "") for c in at.caption if "Track record" in c.value]
    assert shown == [":material/verified: Track record here: agrees with people 100% within one grade, 0% exactly, on 1 graded pairs "
                     "(eval-split queries, which it did not train on)."]
