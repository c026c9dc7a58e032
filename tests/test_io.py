"""Import/export: round trips, and bad input that names file, line and field and writes nothing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from core.errors import InputError
from core.labeling.export import export
from core.storage.imports import import_path
from core.storage.schemas import Document
from tests.conftest import SHARED

CRANFIELD = SHARED / "cranfield"


def write_beir(folder: Path, corpus: str, queries: str, qrels: dict[str, str]) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(corpus)
    (folder / "queries.jsonl").write_text(queries)
    for split, body in qrels.items():
        (folder / "qrels" / f"{split}.tsv").write_text(body)
    return folder


GOOD_CORPUS = '{"_id": "a", "title": "A", "text": "alpha"}\n{"_id": "b", "title": "B", "text": "beta"}\n'
GOOD_QUERIES = '{"_id": "q1", "text": "alpha?"}\n{"_id": "q2", "text": "beta?"}\n'
HEADER = "query-id\tcorpus-id\tscore\n"


def qrel_lines(path: Path) -> set[tuple[str, str, str]]:
    return {tuple(line.split("\t")) for line in path.read_text().splitlines()[1:]}


def test_store_round_trip(store):
    store.add("documents", [Document(doc_id="x", title="T", text="body", metadata='{"year": 2025}')])
    row = store.read("documents").iloc[0]
    assert (row.doc_id, row.title, row.text, json.loads(row.metadata)) == ("x", "T", "body", {"year": 2025})


def test_cranfield_import_export_keeps_every_graded_qrel(store, tmp_path):
    result = import_path(store, CRANFIELD)
    assert (result.documents, result.queries, result.judgments) == (1400, 225, 1612)
    assert result.splits == {"none": 225}  # test qrels alone: a split is drawn at the first run
    export(store, "beir", tmp_path / "out")
    assert qrel_lines(tmp_path / "out" / "qrels" / "unassigned.tsv") == qrel_lines(CRANFIELD / "qrels" / "test.tsv")
    assert import_path(store, tmp_path / "out", name="cranfield").splits == {"none": 225}  # the export reads back as it was


def test_reimport_replaces_instead_of_duplicating(store, tmp_path):
    folder = write_beir(tmp_path / "b", GOOD_CORPUS, GOOD_QUERIES, {"train": HEADER + "q1\ta\t3\n", "test": HEADER + "q2\tb\t5\n"})
    import_path(store, folder)
    import_path(store, folder)
    assert store.count("documents") == 2 and store.count("judgments") == 2
    splits = dict(zip(*store.read("queries", columns=["query_id", "split"]).T.values))
    assert splits == {"q1": "train", "q2": "eval"}


def test_zip_and_hard_negatives(store, tmp_path):
    folder = write_beir(tmp_path / "b", GOOD_CORPUS, GOOD_QUERIES, {"dev": HEADER + "q1\ta\t4\n"})
    (folder / "hard_negatives.tsv").write_text("query-id\tcorpus-id\nq1\tb\n")
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*"):
            zf.write(path, Path("set") / path.relative_to(folder))
    result = import_path(store, archive)
    assert result.name == "set" and result.hard_negatives == 1 and result.splits == {"none": 2}
    flagged = store.read("judgments", where="hard_negative")
    assert list(zip(flagged.query_id, flagged.doc_id, flagged.grade)) == [("q1", "b", 0)]


def test_jsonl_and_csv_documents(store, tmp_path):
    (tmp_path / "docs.jsonl").write_text('{"id": "j1", "text": "one", "lang": "en"}\n')
    (tmp_path / "docs.csv").write_text("id,title,text,year\nc1,Title,two,2025\n")
    import_path(store, tmp_path / "docs.jsonl")
    import_path(store, tmp_path / "docs.csv")
    docs = store.read("documents").set_index("doc_id")
    assert json.loads(docs.loc["j1", "metadata"]) == {"lang": "en"}
    assert docs.loc["c1", "title"] == "Title" and json.loads(docs.loc["c1", "metadata"]) == {"year": "2025"}


BAD_CASES = {
    "malformed line": (GOOD_CORPUS + '{"_id": "c", "text": \n', GOOD_QUERIES, HEADER + "q1\ta\t3\n", "corpus.jsonl, line 3: malformed JSON"),
    "missing field": ('{"_id": "a", "title": "A"}\n', GOOD_QUERIES, HEADER, "corpus.jsonl, line 1, field 'text': missing field"),
    "unknown doc id": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t3\nq1\tzzz\t2\n", "test.tsv, line 3, field 'corpus-id': unknown document id 'zzz'"),
    "unknown query id": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q9\ta\t3\n", "test.tsv, line 2, field 'query-id': unknown query id 'q9'"),
    "grade out of range": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t9\n", "line 2, field 'score': expects a grade from 0 to 5, but got 9"),
    "empty file": (GOOD_CORPUS, "", HEADER, "queries.jsonl: the file is empty"),
    "duplicate id": (GOOD_CORPUS + '{"_id": "a", "text": "again"}\n', GOOD_QUERIES, HEADER, "line 3: duplicate document id 'a' (first on line 1)"),
    "grade inf": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\tinf\n", "test.tsv, line 2, field 'score': expects an integer grade from 0 to 5, but got 'inf'"),
    "grade nan": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t1\nq2\tb\tnan\n", "test.tsv, line 3, field 'score': expects an integer grade"),
    "grade 1e400": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t1e400\n", "line 2, field 'score': expects an integer grade from 0 to 5, but got '1e400'"),
    "grade 2.7": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t2.7\n", "line 2, field 'score': expects an integer grade from 0 to 5, but got '2.7'"),
    "grade -1": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t-1\n", "line 2, field 'score': expects a grade from 0 to 5, but got -1"),
    "grade +2": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t+2\n", "line 2, field 'score': expects an integer grade from 0 to 5, but got '+2'"),
    "grade 002": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t002\n", "line 2, field 'score': expects an integer grade from 0 to 5, but got '002'"),
    "grade full-width 2": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t\uff12\n",
                           "line 2, field 'score': expects an integer grade from 0 to 5, but got '\uff12'"),
    "duplicate pair": (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\ta\t1\nq1\tb\t0\nq1\ta\t3\n",
                       "test.tsv, line 4: grades query 'q1' / document 'a' again (first on line 2)"),
    "number as text": ('{"_id": "a", "text": 12345}\n', GOOD_QUERIES, HEADER, "corpus.jsonl, line 1, field 'text': expects a string, but got int 12345"),
    "number as id": ('{"_id": 7, "text": "seven"}\n', GOOD_QUERIES, HEADER, "corpus.jsonl, line 1, field '_id': expects a string, but got int 7"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_the_problem_and_writes_nothing(store, tmp_path, case):
    import_path(store, write_beir(tmp_path / "ok", '{"_id": "keep", "text": "kept"}\n', '{"_id": "k", "text": "k"}\n', {"test": HEADER + "k\tkeep\t2\n"}))
    corpus, queries, qrels, message = BAD_CASES[case]
    bad = write_beir(tmp_path / "bad", corpus, queries, {"test": qrels})
    with pytest.raises(InputError) as error:
        import_path(store, bad)
    assert message in str(error.value)
    assert (store.count("documents"), store.count("queries"), store.count("judgments")) == (1, 1, 1)


def test_wrong_encoding_is_named(store, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes('{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match=r"docs.jsonl, line 2: is not valid UTF-8"):
        import_path(store, path)
    assert store.count("documents") == 0


def test_a_bad_byte_in_a_csv_is_named_on_its_own_line(store, tmp_path):
    path = tmp_path / "docs.csv"
    path.write_bytes("id,title,text\na,A,alpha\nb,B,caf\u00e9\n".encode("latin-1"))  # the bad byte is on line 3
    with pytest.raises(InputError, match=r"docs.csv, line 3: is not valid UTF-8"):
        import_path(store, path)
    assert store.count("documents") == 0


def test_a_symbolic_link_inside_a_zip_is_refused(store, tmp_path):
    import stat

    archive = tmp_path / "linked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("beir/corpus.jsonl", GOOD_CORPUS)
        zf.writestr("beir/queries.jsonl", GOOD_QUERIES)
        link = zipfile.ZipInfo("beir/qrels/test.tsv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16  # as `zip --symlinks` stores a link: its target is the data
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(InputError, match="member 'beir/qrels/test.tsv' is a symbolic link"):
        import_path(store, archive)
    assert store.count("documents") == 0


def test_failure_during_write_restores_every_table(store, tmp_path, monkeypatch):
    import core.storage.imports as io

    folder = write_beir(tmp_path / "b", GOOD_CORPUS, GOOD_QUERIES, {"test": HEADER + "q1\ta\t3\n"})
    original = store.upsert

    def failing(name, rows, **kwargs):
        if name == "judgments":
            raise OSError("disk full")
        return original(name, rows, **kwargs)

    monkeypatch.setattr(store, "upsert", failing)
    with pytest.raises(OSError):
        io.import_path(store, folder)
    assert store.count("documents") == 0 and store.count("queries") == 0


def test_clashing_ids_from_another_import_are_refused(store, tmp_path):
    (tmp_path / "one.jsonl").write_text('{"_id": "a", "text": "one"}\n')
    (tmp_path / "two.jsonl").write_text('{"_id": "a", "text": "two"}\n')
    import_path(store, tmp_path / "one.jsonl")
    with pytest.raises(InputError, match="already exists from import 'one'"):
        import_path(store, tmp_path / "two.jsonl")
    import_path(store, tmp_path / "two.jsonl", id_prefix="two-")
    assert sorted(store.read("documents")["doc_id"]) == ["a", "two-a"]


def test_exports_triplets_hf_cohere(small_store, tmp_path):
    from datasets import load_from_disk

    # one triplet per query with a grade-0 look-alike: q1, q2, q4, q6 (grade-1 docs count as relevant, never negatives)
    assert export(small_store, "triplets", tmp_path / "t")["triplets"] == 4
    first = json.loads((tmp_path / "t" / "triplets.jsonl").read_text().splitlines()[0])
    assert set(first) == {"anchor", "positive", "negative"}
    export(small_store, "hf", tmp_path / "h")
    dataset = load_from_disk(str(tmp_path / "h" / "hf"))
    assert set(dataset) == {"train", "eval"} and dataset["train"].num_rows + dataset["eval"].num_rows == 16
    export(small_store, "cohere", tmp_path / "c")
    record = json.loads((tmp_path / "c" / "cohere_rerank.jsonl").read_text().splitlines()[0])
    assert record["relevant_passages"] and "hard_negatives" in record


def test_export_without_judgments_says_what_to_do(store, tmp_path):
    with pytest.raises(InputError, match="no judgments to export"):
        export(store, "beir", tmp_path)


def test_duplicate_pair_across_dev_and_test_names_both_files(store, tmp_path):
    bad = write_beir(tmp_path / "bad", GOOD_CORPUS, GOOD_QUERIES, {"dev": HEADER + "q1\ta\t1\n", "test": HEADER + "q1\ta\t2\n"})
    with pytest.raises(InputError, match=r"test.tsv, line 2: grades query 'q1' / document 'a' again \(first on dev.tsv line 2\)"):
        import_path(store, bad)
    assert store.count("documents") == 0


def _zip(path: Path, members: dict[str, bytes | int]) -> Path:
    """A zip whose int members are that many zero bytes, written in chunks (no big buffer)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            with archive.open(name, "w", force_zip64=True) as sink:
                if isinstance(body, bytes):
                    sink.write(body)
                else:
                    for _ in range(body // 2**20):
                        sink.write(bytes(2**20))
    return path


def test_zip_bomb_is_refused_before_extraction(store, tmp_path):
    from core.storage.files import unpack_zip

    bomb = _zip(tmp_path / "bomb.zip", {"b/corpus.jsonl": 64 * 2**20, "b/queries.jsonl": GOOD_QUERIES.encode()})
    assert bomb.stat().st_size < 2**20
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match=r"bomb.zip: member 'b/corpus.jsonl' expands [\d,]+× \(limit 100×\): refused as a likely zip bomb"):
        unpack_zip(bomb, out)
    assert not any(out.iterdir())
    with pytest.raises(InputError, match="zip bomb"):
        import_path(store, bomb)
    assert store.count("documents") == 0


def test_archive_limits_on_total_size_and_member_count(tmp_path, monkeypatch):
    import core.storage.files as files

    archive = _zip(tmp_path / "many.zip", {f"b/{i}.txt": b"x" * 100 for i in range(5)})
    monkeypatch.setattr(files, "MAX_MEMBERS", 4)
    with pytest.raises(InputError, match="holds 5 files; an import archive may hold at most 4"):
        files.unpack_zip(archive, tmp_path)
    monkeypatch.setattr(files, "MAX_MEMBERS", 10)
    monkeypatch.setattr(files, "MAX_UNPACKED_BYTES", 300)
    with pytest.raises(InputError, match="expands to 500 bytes; the limit is 300 bytes"):
        files.unpack_zip(archive, tmp_path)


def test_an_over_long_line_is_refused_without_reading_it_whole(store, tmp_path, monkeypatch):
    import core.storage.files as files

    monkeypatch.setattr(files, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "docs.jsonl"
    path.write_text('{"_id": "a", "text": "ok"}\n' + json.dumps({"_id": "b", "text": "x" * 5000}) + "\n")
    with pytest.raises(InputError, match="docs.jsonl, line 2: has a line longer than"):
        import_path(store, path)
    assert store.count("documents") == 0
