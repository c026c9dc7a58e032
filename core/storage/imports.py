"""Importing documents, queries and graded qrels, all or nothing.

Every file is read and checked in full before anything is written; a problem raises an
InputError naming the file, the line and the field. Writes then go through a journalled
operation (core.storage.operations): a failure half-way, or a kill, takes out exactly the
rows this import wrote (at once, or at the next open) and leaves everyone else's alone.

Accepted: a BEIR folder or .zip (corpus.jsonl, queries.jsonl, qrels/{train,dev,test,unassigned}.tsv;
train → train split, dev/test → eval split when the folder has train qrels; graded scores kept; an optional
hard_negatives.tsv of query-id/corpus-id pairs marks reviewer-flagged hard negatives),
a plain JSONL of documents, or a CSV of documents.

A folder with only dev or test qrels (Cranfield, CISI, most public BEIR sets) brings judgments,
not a split: putting every judged query in eval would leave nothing to train on, so its
queries stay unassigned and get the seeded train/eval split at the first run (`splits`).
Add a qrels/train.tsv, even an empty one, to keep dev/test as the eval set.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from core.progress import Progress
from core.storage.auth import Action, User, actor_name
from core.storage.files import text_lines, unpack_zip
from core.storage.operations import operation
from core.storage.schemas import (
    FLYWHEEL_TOP,
    IMPORT_REVIEWER,
    Document,
    Event,
    Judgment,
    Query,
    QueryOrigin,
    QueryStatus,
    Source,
    Split,
    now,
)
from core.storage.store import Store, sql_in, sql_str

QREL_SPLITS = {"train": Split.train, "dev": Split.eval, "test": Split.eval, "unassigned": Split.none}  # unassigned: as export writes it
ID_FIELDS = ("_id", "doc_id", "id")
WRITE_BATCH = 20_000  # rows per write: bounded memory for the arrow copy, progress on big imports


@dataclass
class ImportResult:
    name: str
    documents: int = 0
    queries: int = 0
    judgments: int = 0
    hard_negatives: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    empty_documents: int = 0  # kept (real corpora have them, e.g. Cranfield 471) but worth a warning
    top_grade: int | None = None  # the grade scale its qrels use (1: binary); None without qrels
    notes: list[str] = field(default_factory=list)  # what a user should know about what was decided for them


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in text_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"malformed JSON ({error.msg} at column {error.colno})", file=str(path), line=number) from None
        if not isinstance(record, dict):
            raise InputError(f"expects a JSON object, but got {type(record).__name__}", file=str(path), line=number)
        yield number, record


def _required_str(record: dict, names: tuple[str, ...], path: Path, number: int, *, allow_empty: bool = False) -> str:
    for name in names:
        if name in record:
            value = record[name]  # checked, not coerced: 12345 is not a text, "12345" is
            if not isinstance(value, str):
                raise InputError(f"expects a string, but got {type(value).__name__} {value!r}; quote it in the file",
                                 file=str(path), line=number, field=name)
            if not allow_empty and not value.strip():
                raise InputError(f"expects a non-empty string, but got {value!r}", file=str(path), line=number, field=name)
            return value
    raise InputError(f"missing field (expected one of {', '.join(names)})", file=str(path), line=number, field=names[0])


def _metadata(record: dict, skip: set[str]) -> str:
    extra = dict(record.get("metadata") or {})
    extra.update({k: v for k, v in record.items() if k not in skip | {"metadata"}})
    return json.dumps(extra, ensure_ascii=False, default=str)


def _unique(ids: list[str], path: Path, lines: list[int], what: str) -> None:
    seen: dict[str, int] = {}
    for value, number in zip(ids, lines):
        if value in seen:
            raise InputError(f"duplicate {what} id '{value}' (first on line {seen[value]})", file=str(path), line=number)
        seen[value] = number


def read_documents_jsonl(path: Path, source: str) -> list[Document]:
    docs, lines = [], []
    for number, record in _jsonl(path):
        doc_id = _required_str(record, ID_FIELDS, path, number)
        title = record.get("title") or ""
        if not isinstance(title, str):
            raise InputError(f"expects a string, but got {title!r}", file=str(path), line=number, field="title")
        text = _required_str(record, ("text",), path, number, allow_empty=True)  # real corpora have empty documents
        docs.append(Document(doc_id=doc_id, title=title, text=text, source=source, metadata=_metadata(record, {*ID_FIELDS, "title", "text"})))
        lines.append(number)
    _unique([d.doc_id for d in docs], path, lines, "document")
    return docs


def read_documents_csv(path: Path, source: str) -> list[Document]:
    """Documents from a CSV with a header, streamed row by row (a field may span lines)."""
    for _ in text_lines(path):  # encoding (with the right line number: csv's own reader decodes in 8 KiB chunks), emptiness
        pass
    docs, numbers = [], []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            id_field = next((f for f in ID_FIELDS if f in header), None)
            if id_field is None or "text" not in header:
                raise InputError(f"expects a header with an id column ({', '.join(ID_FIELDS)}) and 'text', but got {header}", file=str(path), line=1)
            for row in reader:
                number = reader.line_num
                if None in row or any(value is None for value in row.values()):
                    raise InputError(f"expects {len(header)} columns", file=str(path), line=number)
                record = dict(row)
                doc_id = _required_str(record, (id_field,), path, number)
                body = _required_str(record, ("text",), path, number)
                docs.append(Document(doc_id=doc_id, title=record.get("title", ""), text=body, source=source,
                                     metadata=_metadata(record, {id_field, "title", "text"})))
                numbers.append(number)
        except UnicodeDecodeError as error:
            raise InputError(f"is not valid UTF-8 ({error.reason}); re-save the file as UTF-8", file=str(path),
                             line=reader.line_num + 1) from None
        except csv.Error as error:
            raise InputError(f"is not valid CSV ({error})", file=str(path), line=reader.line_num) from None
    _unique([d.doc_id for d in docs], path, numbers, "document")
    return docs


def read_queries_jsonl(path: Path, source: str) -> list[Query]:
    stamp = now()
    queries, lines = [], []
    for number, record in _jsonl(path):
        query_id = _required_str(record, ("_id", "query_id", "id"), path, number)
        text = _required_str(record, ("text",), path, number)
        queries.append(
            Query(query_id=query_id, text=text, origin=QueryOrigin.imported.value, status=QueryStatus.approved.value,
                  generator=IMPORT_REVIEWER + source, source=source, created_at=stamp)
        )
        lines.append(number)
    _unique([q.query_id for q in queries], path, lines, "query")
    return queries


def read_pairs_tsv(path: Path, *, graded: bool) -> list[tuple[int, str, str, int]]:
    """(line, query_id, doc_id, grade) rows of a BEIR qrels file (or TREC's 4-column form)."""
    rows = []
    for number, line in text_lines(path):
        parts = line.split("\t") if "\t" in line else line.split()
        if number == 1 and parts[0].strip().lower() in {"query-id", "query_id", "qid"}:
            continue
        if len(parts) == 4:  # TREC: qid iter docid grade
            parts = [parts[0], parts[2], parts[3]]
        expected = 3 if graded else 2
        if len(parts) < expected:
            raise InputError(f"expects {expected} tab-separated columns, but got {len(parts)}", file=str(path), line=number)
        query_id, doc_id = parts[0].strip(), parts[1].strip()
        grade = _grade(parts[2], path, number) if graded else 0
        rows.append((number, query_id, doc_id, grade))
    return rows


def _grade(text: str, path: Path, number: int) -> int:
    """An integer 0..FLYWHEEL_TOP written as one ASCII digit string: '2', not '2.7', 'inf', '1e400',
    '+2', '002' or a full-width '２' (each of which a spreadsheet or int() would quietly read as 2)."""
    value = text.strip()
    if not re.fullmatch(r"0|-?[1-9][0-9]{0,2}", value, flags=re.ASCII):
        raise InputError(f"expects an integer grade from 0 to {FLYWHEEL_TOP}, but got {value!r}", file=str(path), line=number, field="score")
    grade = int(value)
    if not 0 <= grade <= FLYWHEEL_TOP:
        hint = " (negative TREC grades such as -1 mean 'junk'; change them to 0)" if grade < 0 else ""
        raise InputError(f"expects a grade from 0 to {FLYWHEEL_TOP}, but got {grade}{hint}", file=str(path), line=number, field="score")
    return grade


def _check_ids(rows, path: Path, query_ids: set[str], doc_ids: set[str]) -> None:
    for number, query_id, doc_id, _ in rows:
        if query_id not in query_ids:
            raise InputError(f"unknown query id '{query_id}' (not in queries.jsonl nor the workspace)", file=str(path), line=number, field="query-id")
        if doc_id not in doc_ids:
            raise InputError(f"unknown document id '{doc_id}' (not in corpus.jsonl nor the workspace)", file=str(path), line=number, field="corpus-id")


def _existing_ids(store: Store, table: str, column: str, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    return set(store.read(table, where=sql_in(column, wanted), columns=[column])[column])


def read_beir(folder: Path, store: Store, name: str) -> tuple[list[Document], list[Query], list[Judgment]]:
    corpus, queries_file = folder / "corpus.jsonl", folder / "queries.jsonl"
    for required in (corpus, queries_file):
        if not required.exists():
            raise InputError(f"a BEIR folder needs {required.name}, but it is missing", file=str(folder))
    docs = read_documents_jsonl(corpus, name)
    queries = read_queries_jsonl(queries_file, name)
    doc_ids, query_ids = {d.doc_id for d in docs}, {q.query_id for q in queries}
    qrel_files = [(folder / "qrels" / f"{split}.tsv", split) for split in QREL_SPLITS if (folder / "qrels" / f"{split}.tsv").exists()]
    all_rows = [(path, split, read_pairs_tsv(path, graded=True)) for path, split in qrel_files]
    negatives_path = folder / "hard_negatives.tsv"
    negative_rows = read_pairs_tsv(negatives_path, graded=False) if negatives_path.exists() else []
    referenced_q = {r[1] for _, _, rows in all_rows for r in rows} | {r[1] for r in negative_rows}
    referenced_d = {r[2] for _, _, rows in all_rows for r in rows} | {r[2] for r in negative_rows}
    query_ids |= _existing_ids(store, "queries", "query_id", referenced_q - query_ids)
    doc_ids |= _existing_ids(store, "documents", "doc_id", referenced_d - doc_ids)
    for path, _, rows in all_rows:
        _check_ids(rows, path, query_ids, doc_ids)
    _check_ids(negative_rows, negatives_path, query_ids, doc_ids)

    split_of: dict[str, tuple[str, Path, int]] = {}
    stamp, reviewer = now(), IMPORT_REVIEWER + name
    judgments: dict[tuple[str, str], Judgment] = {}
    pair_at: dict[tuple[str, str], tuple[Path, int]] = {}
    for path, split, rows in all_rows:
        for number, query_id, doc_id, grade in rows:
            first = pair_at.setdefault((query_id, doc_id), (path, number))
            if first != (path, number):
                where = f"line {first[1]}" if first[0] == path else f"{first[0].name} line {first[1]}"
                raise InputError(f"grades query '{query_id}' / document '{doc_id}' again (first on {where}); "
                                 "keep one row per pair", file=str(path), line=number)
            target = QREL_SPLITS[split].value
            earlier = split_of.setdefault(query_id, (target, path, number))
            if earlier[0] != target:
                raise InputError(
                    f"query '{query_id}' is in {earlier[1].name} (line {earlier[2]}) and in {path.name}: "
                    "a query must be in one split only, or train and eval leak",
                    file=str(path), line=number,
                )
            judgments[(query_id, doc_id)] = Judgment(query_id=query_id, doc_id=doc_id, reviewer=reviewer, grade=grade,
                                                     created_at=stamp, updated_at=stamp)
    for _, query_id, doc_id, _ in negative_rows:
        existing = judgments.get((query_id, doc_id))
        if existing is None:
            existing = judgments[(query_id, doc_id)] = Judgment(query_id=query_id, doc_id=doc_id, reviewer=reviewer, grade=0,
                                                                created_at=stamp, updated_at=stamp)
        existing.hard_negative = True
    has_train = any(split == "train" for _, split in qrel_files)  # see the module docstring
    for query in queries:
        query.split = split_of.get(query.query_id, (Split.none.value,))[0] if has_train else Split.none.value
    return docs, queries, list(judgments.values())


def _unpack_zip(path: Path, into: Path) -> Path:
    unpack_zip(path, into)  # checked against size, ratio and member-count limits first
    found = sorted(into.rglob("corpus.jsonl"))
    if not found:
        raise InputError("the archive holds no corpus.jsonl (expected a BEIR folder)", file=str(path))
    return found[0].parent


def _check_collisions(store: Store, table: str, column: str, ids: list[str], name: str) -> None:
    """Refuse to overwrite rows that came from another import (two datasets sharing ids)."""
    if not ids:
        return
    rows = store.read(table, where=f"{sql_in(column, ids)} AND source != {sql_str(name)}", columns=[column, "source"], limit=1)
    if not rows.empty:
        raise InputError(
            f"{table[:-1]} id '{rows[column].iloc[0]}' already exists from import '{rows['source'].iloc[0]}'; "
            "import into another workspace (--workspace) or give this import an id prefix (--id-prefix)"
        )


def _prefixed(prefix: str, docs: list[Document], queries: list[Query], judgments: list[Judgment]) -> None:
    for doc in docs:
        doc.doc_id = prefix + doc.doc_id
    for query in queries:
        query.query_id = prefix + query.query_id
    for judgment in judgments:
        judgment.query_id, judgment.doc_id = prefix + judgment.query_id, prefix + judgment.doc_id


def import_name(path: str | Path) -> str:
    """An import's default name (its documents' source): the file's name without suffix, or the folder's."""
    path = Path(path)
    return path.stem if path.is_file() else path.name


def import_path(store: Store, path: str | Path, name: str | None = None, actor: str | User = "cli", id_prefix: str = "",
                progress: Progress | None = None) -> ImportResult:
    """Import a BEIR folder or .zip, a documents .jsonl or a documents .csv, all or nothing;
    `progress` hears the reading, then each table's rows written."""
    actor = actor_name(actor, Action.import_data)
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    name = name or import_name(path)
    if progress:
        progress(0, 0, f"reading and checking {path.name}")
    with tempfile.TemporaryDirectory() as scratch:
        queries: list[Query] = []
        judgments: list[Judgment] = []
        if path.is_dir():
            docs, queries, judgments = read_beir(path, store, name)
        elif path.suffix.lower() == ".zip":
            docs, queries, judgments = read_beir(_unpack_zip(path, Path(scratch)), store, name)
        elif path.suffix.lower() == ".jsonl":
            docs = read_documents_jsonl(path, name)
        elif path.suffix.lower() == ".csv":
            docs = read_documents_csv(path, name)
        else:
            raise InputError(f"expects a BEIR folder, a .zip, a .jsonl or a .csv, but got '{path.name}'")
        if id_prefix:
            _prefixed(id_prefix, docs, queries, judgments)
        _check_collisions(store, "documents", "doc_id", [d.doc_id for d in docs], name)
        _check_collisions(store, "queries", "query_id", [q.query_id for q in queries], name)
        return write_import(store, name, docs, queries, judgments, actor, progress)


def write_import(store: Store, name: str, docs: list[Document], queries: list[Query], judgments: list[Judgment], actor: str,
                 progress: Progress | None = None) -> ImportResult:
    """Write a checked import all or nothing: the import event is the last write, and the
    journal entry's removal publishes the whole (a killed import is undone at the next open;
    until then readers skip its rows, store.unpublished)."""
    graded = [j.grade for j in judgments if not (j.hard_negative and j.grade == 0)]  # flags alone say nothing of the scale
    source = Source(source=name, top_grade=max(graded), grades=json.dumps({str(g): n for g, n in sorted(Counter(graded).items())}),
                    created_at=now()) if graded else None  # the grades its qrels use, so label rules read them on their own scale
    splits: dict[str, int] = {}
    for query in queries:
        splits[query.split] = splits.get(query.split, 0) + 1
    result = ImportResult(name=name, documents=len(docs), queries=len(queries), judgments=len(judgments),
                          hard_negatives=sum(j.hard_negative for j in judgments), splits=splits,
                          empty_documents=sum(not (d.text.strip() or d.title.strip()) for d in docs),
                          top_grade=source.top_grade if source else None)
    if splits.get(Split.none.value) and judgments:
        result.notes.append(
            f"{splits[Split.none.value]:,} queries came without a train/eval split (a folder without qrels/train.tsv gives none): "
            "they get the seeded 70/30 split, stratified by document, when the first run starts (or now with `flywheel split`). "
            "To keep dev/test queries as the eval set, add a qrels/train.tsv, even an empty one."
        )
    event = Event(event_id=uuid.uuid4().hex, at=now(), actor=actor, action="import", target=IMPORT_REVIEWER + name,
                  detail=json.dumps(result.__dict__, default=str))
    with operation(store, journal=f"import '{name}'", kind="import", actor=actor, source=name) as op:  # hidden until published
        for table, rows in (("documents", docs), ("queries", queries), ("judgments", judgments)):
            for start in range(0, len(rows), WRITE_BATCH):
                if progress:
                    progress(start, len(rows), f"writing {table}")
                op.upsert(table, rows[start : start + WRITE_BATCH])
            if progress and rows:
                progress(len(rows), len(rows), f"writing {table}")
        if source is not None:
            op.upsert("sources", [source])
        op.add("events", [event])
    if progress:
        progress(0, 0, "indexing")
    store.ensure_fts_index()
    for table, rows in (("queries", queries), ("judgments", judgments)):
        if rows:  # the write batches' fragments merged, and the rows in the tables' scalar indexes (built once big enough)
            store.compact(table)
    return result
