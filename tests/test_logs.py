"""Production logs: format checks, all-or-nothing import, query merging, signals as suggestions,
the thumbs-down queue, hard-negative candidates into training, promotion, production scoring."""

from __future__ import annotations

import ast
import json
import sys
import threading

import pytest

from core.commands.main import main
from core.errors import InputError
from core.evaluation import metrics, production, results
from core.labeling import grading, hardnegatives, logs
from core.labeling.log_format import read_log
from core.storage.schemas import Judgment, Run, Source, now
from core.storage.status import status
from core.training import data as training_data
from flywheel_log import log_interaction
from tests.conftest import ROOT

MALFORMED = ROOT / "tests" / "data" / "logs_malformed.jsonl"
DEMO_LOG = ROOT / "data" / "demo" / "logs.jsonl"


def write_log(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def interaction(i, query, ranking, **extra) -> dict:
    return {"id": f"i{i}", "timestamp": f"2026-03-0{1 + i % 5}T10:00:00Z", "query": query,
            "retrieved": [{"doc_id": d, "rank": r, "score": 1.0 - r / 10} for r, d in enumerate(ranking, start=1)], **extra}


SMALL_LOG = [
    interaction(1, "Silver PPO deductible 2025?", ["d2", "d1", "d3"], cited=["d1"], feedback={"thumbs": "up"}),
    interaction(2, "silver ppo   deductible 2025", ["d2", "d1", "d3"], feedback={"thumbs": "down", "comment": "wrong year"}),
    interaction(3, "vision coverage for glasses", ["d12", "d11", "d10"], feedback={"thumbs": "down"}),
    interaction(4, "vision coverage for glasses", ["d12", "d-retired"], clicked=["d11"]),
]


def counts(store) -> dict:
    return {t: store.count(t) for t in ("interactions", "queries", "suggestions", "events")}


def test_every_bad_line_is_named_and_nothing_is_stored(small_store):
    before = counts(small_store)
    with pytest.raises(InputError) as error:
        logs.import_logs(small_store, MALFORMED)
    message = str(error.value)
    assert "5 bad lines" in message and "nothing was imported" in message
    for line, field in ((4, "query"), (5, "timestamp"), (6, "retrieved"), (7, "feedback.thumbs")):
        assert f"logs_malformed.jsonl, line {line}, field '{field}'" in message
    assert "line 8: malformed JSON" in message
    assert error.value.line == 4
    assert counts(small_store) == before


def test_import_merges_same_text_keeps_the_variants_and_reimport_adds_nothing(small_store, tmp_path):
    path = tmp_path / "prod.jsonl"
    write_log(path, SMALL_LOG)
    result = logs.import_logs(small_store, path)
    assert (result.lines, result.interactions, result.new_queries, result.merged_same_text) == (4, 4, 1, 1)
    assert (result.unknown_documents, result.unknown_document_ids) == (1, ["d-retired"])
    stored = logs.interactions(small_store).set_index("interaction_id")
    assert stored.loc["i1", "query_id"] == stored.loc["i2", "query_id"] == "q1"  # the existing query, same normalised text
    assert set(logs.variants(small_store, "q1")["typed"]) == {"Silver PPO deductible 2025?", "silver ppo deductible 2025"}
    new = small_store.read("queries", where="origin = 'log'")
    assert list(new["text"]) == ["vision coverage for glasses"] and list(new["status"]) == ["pending"]

    again = logs.import_logs(small_store, path)
    assert (again.interactions, again.already_imported, again.new_queries) == (0, 4, 0)
    assert small_store.count("interactions") == 4 and small_store.count("queries", "origin = 'log'") == 1
    assert {k: status(small_store)[k] for k in ("logged_interactions", "log_queries")} == {"logged_interactions": 4, "log_queries": 1}


def test_signals_become_suggestions_never_judgments(small_store, tmp_path):
    path = tmp_path / "prod.jsonl"
    write_log(path, SMALL_LOG)
    judgments = small_store.count("judgments")
    result = logs.import_logs(small_store, path)
    found = small_store.read("suggestions", where="agent = 'logs'").set_index(["query_id", "doc_id"])
    assert found.loc[("q1", "d1"), "grade"] == logs.LIKELY_RELEVANT_GRADE  # cited once
    assert "cited in 1 of 2 answers" in found.loc[("q1", "d1"), "reason"]
    assert found.loc[("q1", "d2"), "grade"] == logs.HARD_NEGATIVE_GRADE  # #1 under a thumbs-down, never cited
    qid = logs.interactions(small_store).set_index("interaction_id").at["i3", "query_id"]
    assert found.loc[(qid, "d11"), "grade"] == logs.LIKELY_RELEVANT_GRADE  # clicked
    assert found.loc[(qid, "d12"), "grade"] == logs.HARD_NEGATIVE_GRADE
    assert ("q1", "d3") in found.index and found.loc[("q1", "d3"), "grade"] == logs.HARD_NEGATIVE_GRADE  # rank 3 ≤ HIGH_RANK
    assert found.loc[(qid, "d10"), "grade"] == logs.HARD_NEGATIVE_GRADE  # rank 3 under the thumbs-down
    assert (qid, "d-retired") not in found.index  # not in the corpus: counted, never suggested
    assert (result.likely_relevant, result.likely_hard_negatives) == (2, 4)
    assert small_store.count("judgments") == judgments


def test_near_duplicates_merge_by_similarity_but_never_across_numbers(small_store, tmp_path, embedder):
    path = tmp_path / "typos.jsonl"
    write_log(path, [interaction(1, "silver ppo deductable 2025", ["d1"]), interaction(2, "silver ppo deductible 2026", ["d2"]),
                     interaction(3, "do i need PA for MRI", ["d4"]), interaction(4, "what is an FSA", ["d11"])])
    result = logs.import_logs(small_store, path, embedder=embedder)
    mapped = logs.interactions(small_store).set_index("interaction_id")["query_id"]
    how = {m["text"]: (m["query_id"], m["how"], m["similarity"]) for m in result.merges}
    assert mapped["i1"] == "q1" and how["silver ppo deductable 2025"] == ("q1", "typo", None)
    assert mapped["i2"] != "q1" and result.new_queries == 2  # another year is another question, however close the vectors
    assert mapped["i3"] == "q2" and how["do i need PA for MRI"][1] == "similar" and how["do i need PA for MRI"][2] >= logs.MERGE_SIMILARITY
    assert mapped["i4"] != "q5"  # an acronym one letter away is another question


def test_typos_only_in_long_words():
    assert logs.is_typo_of("add my newbron to my plan", "add my newborn to my plan")
    assert not logs.is_typo_of("what is an fsa", "what is an hsa")
    assert not logs.is_typo_of("gold hmo 2026", "gold hmo 2025")
    assert not logs.is_typo_of("silver ppo plan", "silver ppo plan")


def test_csv_log(small_store, tmp_path):
    path = tmp_path / "prod.csv"
    path.write_text("id,timestamp,query,retrieved,cited,thumbs\n"
                    "c1,2026-03-01T10:00:00Z,what is an HSA,d10;d11,d10,up\n"
                    "c2,1767261600,what is an hsa,\"[{\"\"doc_id\"\": \"\"d11\"\", \"\"rank\"\": 1}]\",,down\n")
    result = logs.import_logs(small_store, path)
    assert (result.interactions, result.new_queries) == (2, 0)
    frame = logs.interactions(small_store).set_index("interaction_id")
    assert frame.at["c1", "retrieved"] == [["d10", 1, None], ["d11", 2, None]] and frame.at["c2", "thumbs"] == "down"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,timestamp,query,retrieved,thumbs\nc3,2026-03-01,hsa,d10,sideways\n")
    with pytest.raises(InputError, match=r"bad.csv, line 2, field 'feedback.thumbs'"):
        logs.import_logs(small_store, bad)


def test_thumbs_down_queue_and_uncertainty(small_store, tmp_path, embedder):
    write_log(tmp_path / "l.jsonl", [interaction(1, "ER visit out of network", ["d12"], feedback={"thumbs": "up"}),
                                     interaction(2, "what is an HSA", ["d10"], feedback={"thumbs": "down"}),
                                     interaction(3, "what is an HSA", ["d10"])])
    logs.import_logs(small_store, tmp_path / "l.jsonl")
    share = logs.thumbs_down_share(small_store)
    assert share == {"q8": 0.0, "q5": 0.5}
    plain = grading.queue_order(small_store, "ann", grading.Strategy.ungraded)
    assert plain[0].query_id == "q8"  # fewest judgments
    order = grading.queue_order(small_store, "ann", grading.Strategy.thumbs_down, thumbs_down=share)
    assert order[0].query_id == "q5"
    without = grading.uncertainty(small_store, embedder, ["q5"])
    small_store.delete("interactions", "query_id = 'q5'")
    assert without["q5"] == pytest.approx(grading.uncertainty(small_store, embedder, ["q5"])["q5"] + 0.5)


def test_log_hard_negatives_are_candidates_and_confirmed_ones_train(small_store, tmp_path, embedder):
    write_log(tmp_path / "l.jsonl", [interaction(1, "do I need a PA for an MRI", ["d6", "d4"], cited=["d4"], feedback={"thumbs": "down"})])
    logs.import_logs(small_store, tmp_path / "l.jsonl")
    found = hardnegatives.mined_candidates(small_store, embedder)
    row = found[(found["query_id"] == "q2") & (found["doc_id"] == "d6")]
    assert len(row) == 1 and row["source"].iloc[0].startswith("logs: ranked #1 under 1 thumbs-down")
    assert not ((found["query_id"] == "q2") & (found["doc_id"] == "d4")).any()  # cited: likely relevant, not a candidate
    before = training_data.build(small_store, negatives_per_query=3)
    assert before.negative_source.get(("q2", "d6")) is None
    hardnegatives.confirm(small_store, "ann", "q2", "d6")
    after = training_data.build(small_store, negatives_per_query=3)
    assert after.negative_source[("q2", "d6")] == "flagged"
    assert "d6" in after.negatives["q2"]


def test_promote_to_eval_and_review(small_store, tmp_path):
    write_log(tmp_path / "l.jsonl", [interaction(1, "vision coverage for glasses", ["d12"])])
    logs.import_logs(small_store, tmp_path / "l.jsonl")
    qid = small_store.read("queries", where="origin = 'log'")["query_id"].iloc[0]
    logs.promote(small_store, "ann", qid, "eval")
    row = small_store.read("queries", where=f"query_id = '{qid}'").iloc[0]
    assert (row["status"], row["split"], row["reviewer"]) == ("approved", "eval", "ann")
    logs.promote(small_store, "ann", qid, "review")
    assert small_store.read("queries", where=f"query_id = '{qid}'")["status"].iloc[0] == "pending"
    assert small_store.count("events", "action = 'promote'") == 2
    with pytest.raises(InputError, match="expects 'review' or 'eval'"):
        logs.promote(small_store, "ann", qid, "train")


def test_production_is_scored_beside_the_run(small_store, tmp_path):
    # q5..q8 are eval; production logged q6 (relevant d3 at rank 2) and q8 (d12 at rank 1).
    write_log(tmp_path / "l.jsonl", [interaction(1, "gold hmo deductible", ["d1", "d3"]), interaction(2, "ER visit out of network", ["d12"])])
    logs.import_logs(small_store, tmp_path / "l.jsonl")
    small_store.add("runs", [Run(run_id="r1", kind="bi-encoder", base_model="m", created_at=now())])
    qrels = {q: {"d3": 5, "d1": 0} if q == "q6" else {"d12": 4} if q == "q8" else {"d10": 5} for q in ("q5", "q6", "q8")}
    metrics.save_stage(small_store, "r1", "before", qrels, {"q5": [("d10", 1.0)], "q6": [("d9", 1.0)], "q8": [("d1", 1.0)]}, 1)
    metrics.save_stage(small_store, "r1", "after", qrels, {"q5": [("d10", 1.0)], "q6": [("d3", 1.0)], "q8": [("d12", 1.0)]}, 1)
    frame = production.compare(small_store, results.load_run(small_store, "r1"), "mrr@10", "after").set_index("system")
    assert list(frame["queries"]) == [2, 2, 2]  # only the logged eval queries
    assert frame.at["production (logged)", "value"] == pytest.approx((0.5 + 1.0) / 2)
    assert frame.at["base model (before)", "value"] == 0.0
    assert frame.at["run r1 (after)", "value"] == 1.0


def test_logging_helper_is_safe_from_threads_and_imports(small_store, tmp_path):
    path = tmp_path / "app" / "rag.jsonl"

    def worker(n: int) -> None:
        for i in range(50):
            log_interaction(path, f"question {n} {i} " + "x" * 300, [("d1", 0.9), "d2", {"doc_id": "d3", "score": 0.1}],
                            cited=["d1"], thumbs="down" if i % 2 else None, session=f"s{n}", user="u1", app_version="1.0")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = read_log(path)
    assert len(lines) == 400 and len({line.interaction_id for line in lines}) == 400
    assert lines[0].retrieved == [("d1", 1, 0.9), ("d2", 2, None), ("d3", 3, 0.1)]
    assert logs.import_logs(small_store, path).interactions == 400
    with pytest.raises(ValueError, match="thumbs"):
        log_interaction(path, "q", [], thumbs="meh")


def test_logging_helper_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "flywheel_log.py").read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names and names <= set(sys.stdlib_module_names) | {"__future__"}


def test_cli_import_logs_on_the_demo_log(workspace, capsys):
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["import-logs", str(DEMO_LOG), "--exact-only"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["interactions"] == first["lines"] == 2000 and first["new_queries"] > 100 and first["unknown_documents"] > 0
    assert main(["import-logs", str(DEMO_LOG), "--exact-only"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["interactions"], again["already_imported"]) == (0, 2000)
    assert main(["import-logs", str(MALFORMED)]) == 2
    assert "nothing was imported" in capsys.readouterr().err
    assert main(["status"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["logged_interactions"] == 2000 and counts["log_queries"] == first["new_queries"]


def test_demo_log_is_small_and_realistic():
    lines = read_log(DEMO_LOG)
    assert len(lines) == 2000 and DEMO_LOG.stat().st_size < 1_000_000
    assert sum(line.thumbs == "down" for line in lines) > 100 and sum(bool(line.cited) for line in lines) > 1000
    assert len({line.query for line in lines}) < 1000  # repeats


def test_a_log_hard_negative_graded_relevant_on_binary_qrels_is_not_offered(small_store, tmp_path, embedder):
    """The relevance rule is each query's top band: a 1 on binary qrels is relevant (it was `grade >= 3`)."""
    stamp = now()
    small_store.add("sources", [Source(source="small", top_grade=1, created_at=stamp)])
    small_store.upsert("judgments", [Judgment(query_id="q2", doc_id="d6", reviewer="import:small", grade=1, created_at=stamp, updated_at=stamp)])
    write_log(tmp_path / "l.jsonl", [interaction(1, "do I need a PA for an MRI", ["d6", "d4"], cited=["d4"], feedback={"thumbs": "down"})])
    logs.import_logs(small_store, tmp_path / "l.jsonl")
    assert len(logs.hard_negative_candidates(small_store, ["q2"]).query("doc_id == 'd6'")) == 1  # the log names it...
    found = hardnegatives.mined_candidates(small_store, embedder)
    assert not ((found["query_id"] == "q2") & (found["doc_id"] == "d6")).any()  # ...but a person's label says relevant
