"""Relevance scales: detected per import, the default positive rule on binary and 0–2 qrels
(training data, export, a tiny training run), and reviewers' 0–5 grades beside imported ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError
from core.labeling import export, grading, labels
from core.labeling.labels import FLYWHEEL, Scale, detect_scale
from core.storage import splits
from core.storage.imports import import_path
from core.training import data as trainingdata
from core.training import jobs
from core.training import run as training
from core.training.config import TrainConfig
from tests.conftest import SMALL_DOCS, SMALL_QUERIES
from tests.tiny_model import build_tiny_model

# SMALL_QUERIES' 0–5 grades written on another scale: (grade on 0–5) -> grade in the file.
ON_SCALE = {1: {0: 0, 1: 0, 4: 1, 5: 1}, 2: {0: 0, 1: 0, 4: 1, 5: 2}}


def beir_folder(root: Path, top: int) -> Path:
    """SMALL_DOCS/SMALL_QUERIES as a BEIR folder whose qrels use the scale 0..top."""
    folder = root / f"scale-{top}"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "title": t, "text": x}) + "\n" for d, t, x in SMALL_DOCS))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t, _, _ in SMALL_QUERIES))
    for split, name in (("train", "train"), ("eval", "test")):
        lines = [f"{q}\t{d}\t{ON_SCALE[top][g]}" for q, _, s, grades in SMALL_QUERIES if s == split for d, g in grades]
        (folder / "qrels" / f"{name}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_the_import_prefix_and_the_top_grade_are_defined_once():
    """core.storage.schemas defines both (storage writes imports, so it sits at the bottom); every
    other module imports them. The prefix was written out five times and the top grade four."""
    import re

    root = Path(__file__).resolve().parent.parent
    sources = {str(p.relative_to(root)): p.read_text() for folder in ("core", "ui", "pages") for p in (root / folder).rglob("*.py")}
    sources["app.py"] = (root / "app.py").read_text()
    prefix = sorted(p for p, text in sources.items() if re.search(r"""f?["']import:["'{%]""", text))
    grade_top = r"^\w*(GRADE|TOP)\w* = 5\b|range\(6\)|le=5\b|grade\w* <= 5\b|\b5 \* _?prob|grade\)? / 5\b"
    top = sorted(p for p, text in sources.items() for _ in re.finditer(grade_top, text, re.M))
    assert prefix == ["core/storage/schemas.py"]
    assert top == ["core/storage/schemas.py"]


def test_scale_bands_and_detection():
    assert [detect_scale(g).top for g in ([1, 1], [0, 1], [0, 2], [1, 2, 3], [0, 5], [])] == [1, 1, 2, 3, 5, 5]
    assert [Scale(top).positive for top in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert [Scale(1).from_flywheel(g) for g in range(6)] == [0, 0, 0, 1, 1, 1]
    assert [Scale(3).from_flywheel(g) for g in range(6)] == [0, 1, 1, 2, 3, 3]
    assert [FLYWHEEL.from_flywheel(g) for g in range(6)] == list(range(6))
    for top in (1, 2, 3, 4):  # a reviewer's positive (>= 3) is a positive on every scale, and below 3 never is
        scale = Scale(top)
        assert all((scale.from_flywheel(g) >= scale.positive) == (g >= 3) for g in range(6))
    assert "grade >= 1 on binary 0/1" in labels.positive_rule(0, [Scale(1)]) and labels.positive_rule(2) == "grade >= 2 (set for this run)"


@pytest.mark.parametrize("top", [1, 2])
def test_import_records_its_scale_and_trains_and_exports_by_default(store, tmp_path, top):
    result = import_path(store, beir_folder(tmp_path, top), name="ext")
    assert result.top_grade == top
    assert labels.source_scales(store) == {"ext": Scale(top)}
    data = trainingdata.build(store)  # TrainConfig's default: positive_grade 0, the scale's top band
    assert len(data.pairs) == 4 and data.below_threshold == 0
    assert f">= 1 on {Scale(top).name}" in data.positive_rule
    assert all(g == 0 for q in data.positives for d, g in data.grades[q].items() if d in data.negatives.get(q, []))
    out = export.export(store, "triplets", tmp_path / "out")
    assert out["triplets"] > 0
    # The old fixed rule (>= 3) on the same data finds nothing: what the default now avoids.
    assert trainingdata.build(store, positive_grade=3).pairs == []


def test_reviewer_grades_move_onto_the_imported_scale_without_changing_stored_rows(store, tmp_path):
    import_path(store, beir_folder(tmp_path, 1), name="ext")
    grading.grade(store, "ann", "q1", "d3", 4)  # imported 0 (from 1 on 0–5); ann says 4 on 0–5
    grading.grade(store, "ann", "q1", "d1", 2)  # imported 1; ann says 2 on 0–5, below the positive band
    grading.grade(store, "bob", "q1", "d1", 2)
    stored = store.read("judgments", where="query_id = 'q1'").set_index(["doc_id", "reviewer"])["grade"]
    assert stored[("d3", "ann")] == 4 and stored[("d1", "import:ext")] == 1 and stored[("d1", "bob")] == 2
    qrels, scales = labels.graded_labels(store, ["q1"])
    assert scales["q1"] == Scale(1)
    assert qrels["q1"]["d3"] == 1  # import 0 and ann's 4 (1 on binary): the median 0.5 rounds half up, as for any two
    assert qrels["q1"]["d1"] == 0  # import 1, ann 0, bob 0 on the binary scale: the reviewers outvote it


def test_a_tiny_run_on_binary_qrels_succeeds_and_saves_the_rule(store, workspace, tmp_path, tiny):
    import_path(store, beir_folder(tmp_path, 1), name="ext")
    job = training.launch(store, workspace, TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=1, batch_size=4))
    assert job.wait(240) == "succeeded", jobs.read_run(store, job.run_id)["error"]
    row = jobs.read_run(store, job.run_id)
    assert row["config"]["positive_grade"] == 0
    assert row["config"]["positive_rule"] == "top band of each query's scale: grade >= 1 on binary 0/1"
    assert row["snapshot"]["train_pairs"] == 4


def test_the_triplet_export_takes_the_negatives_training_takes_under_the_relevant_grade(small_store, tmp_path, tiny, monkeypatch):
    """With FLYWHEEL_RELEVANT_GRADE=2 a grade 1 is not relevant, so training takes it as a negative;
    `flywheel export --format triplets` must too (it kept the default of 1 and dropped it)."""
    from core.commands.main import main
    from core.search.models import document_text

    monkeypatch.setenv("FLYWHEEL_RELEVANT_GRADE", "2")
    assert main(["export", "--format", "triplets", "--out", str(tmp_path / "out"), "--model", tiny]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "triplets.jsonl").read_text().splitlines()]
    data = trainingdata.build(small_store, validation_fraction=0, relevant_grade=2)
    assert data.negative_source[("q1", "d3")] == data.negative_source[("q3", "d6")] == "low-graded"  # both graded 1
    text = {d: document_text(t, x) for d, t, x in SMALL_DOCS}
    queries = {q: t for q, t, _, _ in SMALL_QUERIES}
    exported = {(r["anchor"], r["negative"]) for r in rows}
    assert {(queries["q1"], text["d3"]), (queries["q3"], text["d6"])} <= exported


def test_the_data_pages_export_follows_the_relevant_grade_too(small_store, monkeypatch):
    """The Data page's export passes the setting as the CLI does: with FLYWHEEL_RELEVANT_GRADE=2,
    q1's grade-1 d3 is among its Cohere hard negatives."""
    import io
    import zipfile

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FLYWHEEL_RELEVANT_GRADE", "2")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    next(r for r in at.radio if r.label == "Format").set_value(export.ExportFormat.cohere).run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception
    fmt, archive, _ = at.session_state["export"]
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith("cohere_rerank.jsonl"))
        records = {r["query"]: r for r in map(json.loads, zipped.read(name).decode().splitlines())}
    d3 = next(x for d, _, x in SMALL_DOCS if d == "d3")
    assert fmt == "cohere" and any(d3 in n for n in records[SMALL_QUERIES[0][1]]["hard_negatives"])


def test_grade_page_legend_states_an_imported_queries_scale(store, tmp_path):
    import_path(store, beir_folder(tmp_path, 1), name="ext")
    assert labels.query_scale(store, "q1") == Scale(1)
    assert "0–2 → 0, 3–5 → 1" in labels.scale_note(labels.query_scale(store, "q1"))
    assert labels.scale_note(FLYWHEEL) == ""


def test_qrels_listing_only_relevant_documents_export_triplets_with_mined_negatives(store, tmp_path, embedder):
    """Most BEIR sets (CISI, SciFact…) list relevant documents only: no judged negative exists."""
    folder = beir_folder(tmp_path, 1)
    for qrels in (folder / "qrels").iterdir():
        lines = qrels.read_text().splitlines()
        qrels.write_text("\n".join([lines[0], *(line for line in lines[1:] if line.endswith("\t1"))]) + "\n")
    import_path(store, folder, name="ext")
    with pytest.raises(InputError, match="expects a query with a positive"):
        export.export(store, "triplets", tmp_path / "bare")
    out = export.export(store, "triplets", tmp_path / "out", embedder=embedder)
    assert out["triplets"] == out["mined_triplets"] > 0
    judged = {(q, d) for q, _, _, grades in SMALL_QUERIES for d, g in grades if ON_SCALE[1][g]}  # what the file still lists
    text_of = {x: d for d, _, x in SMALL_DOCS}
    query_of = {t: q for q, t, _, _ in SMALL_QUERIES}
    rows = [json.loads(line) for line in (tmp_path / "out" / "triplets.jsonl").read_text().splitlines()]
    negatives = {(query_of[r["anchor"]], text_of[r["negative"].split("\n")[-1]]) for r in rows}
    assert negatives and not negatives & judged


def test_a_folder_with_only_test_qrels_is_left_unsplit_and_the_first_run_draws_the_split(store, workspace, tmp_path, tiny):
    """Cranfield, CISI and most public BEIR sets ship qrels/test.tsv alone: all of it in eval trained nothing."""
    folder = beir_folder(tmp_path, 1)
    test = folder / "qrels" / "test.tsv"
    train_lines = (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]
    test.write_text(test.read_text() + "\n".join(train_lines) + "\n")
    (folder / "qrels" / "train.tsv").unlink()
    result = import_path(store, folder, name="ext")
    assert result.splits == {"none": 8} and "qrels/train.tsv" in result.notes[0]
    job = training.launch(store, workspace, TrainConfig(kind="bi-encoder", base_model=tiny, max_steps=1, batch_size=4))
    assert job.wait(240) == "succeeded", jobs.read_run(store, job.run_id)["error"]
    counts = splits.split_counts(store)  # the seeded 70/30 default: 2.4 of 8 in eval, 2 or 3 as the draw's offset falls
    assert counts["none"] == 0 and counts["eval"] in (2, 3) and counts["train"] == 8 - counts["eval"]
    assert jobs.read_run(store, job.run_id)["snapshot"]["train_pairs"] > 0
    assert store.count("events", "action = 'split'") == 1


def test_an_empty_train_file_keeps_test_queries_as_the_eval_set(store, tmp_path):
    folder = beir_folder(tmp_path, 1)
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n")
    result = import_path(store, folder, name="ext")
    assert result.splits == {"eval": 4, "none": 4}  # the four unjudged queries have no side yet
    splits.assign_unassigned(store)
    side = dict(zip(*store.read("queries", columns=["query_id", "split"]).T.values))
    assert all(side[q] == "eval" for q in ("q5", "q6", "q7", "q8")) and "none" not in side.values()
