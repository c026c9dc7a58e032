"""Backups of a live workspace, and their restore.

`backup` writes a consistent snapshot while reviewers keep grading: every table as it was at one
moment. It reads the current version of every table, again and again, until two reads in a row
agree (no commit landed in between, so those versions all held at one moment), or, with `at`,
takes each table's last version committed by then (within the retention, core.storage.retention).
Each table is read at its version (LanceDB time travel) into a LanceDB database of its own under
DIR/db. Beside it: the users file with its session key, sign-outs and failed sign-ins; the
folders of the succeeded runs' models (with their cards); and manifest.json, written last, with
versions, row counts and an order-free digest of every table, and a sha256 of every file.

`restore` rebuilds a workspace from it in a new place, checking every table and file against
the manifest, then opens it (an older schema is migrated) and points the runs at their models.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import lancedb
import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import InputError
from core.settings import Settings
from core.storage.migrations import SCHEMA_VERSION, flywheel_version, read_meta
from core.storage.retention import KEEP_KEY, keep_days, restorable_since, version_times
from core.storage.schemas import RunStatus, now
from core.storage.store import EMBEDDINGS_PREFIX, Store, sql_in

FORMAT = 1
MANIFEST = "manifest.json"
MOMENT_TRIES = 400  # passes over the tables' versions (~3 ms each) before settling for the last
USER_FILES = ("", ".session-key", ".revoked.json", ".failures.json")  # the users file, then the files beside it (sessions, throttle)


@dataclass(frozen=True)
class Moment:
    versions: dict[str, int]  # table -> version
    taken_at: datetime  # naive UTC
    exact: bool  # all versions held at one moment (False only when commits never paused, or `at` is set)
    passes: int


def _pass(store: Store, tables: dict) -> tuple[tuple[str, ...], dict[str, int]]:
    names = tuple(sorted(store.table_names()))
    for name in names:
        if name not in tables:
            tables[name] = store.table(name)
    return names, {name: tables[name].version for name in names}


def one_moment(store: Store, tries: int = MOMENT_TRIES) -> Moment:
    """Versions of every table that all held at one moment: two passes over the tables that read
    the same names and versions mean nothing was committed between them, so each version held at
    the end of the first pass."""
    tables: dict = {}
    previous: tuple = ((), {})
    for attempt in range(1, tries + 1):
        taken_at = now()
        try:
            current = _pass(store, tables)
        except Exception:  # noqa: BLE001 - a table dropped between listing and reading (an import's side table): again
            tables.clear()
            continue
        if current == previous:
            return Moment(current[1], taken_at, True, attempt)
        previous = current
    return Moment(previous[1], now(), False, tries)


def moment_at(store: Store, at: datetime) -> Moment:
    """Each table's last version committed by `at` (naive UTC); refused where versions of that
    time were pruned. Tables made after `at` are left out: they did not exist then."""
    versions = {}
    for name in sorted(store.table_names()):
        kept = version_times(store.table(name))
        earlier = [version for version, committed in kept if committed <= at]
        if earlier:
            versions[name] = earlier[-1]
        elif kept[0][0] > 1:  # the versions of `at` were pruned
            raise InputError(f"backup --at expects a time since {restorable_since(store)} (older table versions were pruned "
                             f"by the retention), but got {at.isoformat()}; restore an older backup instead")
    return Moment(versions, at, False, 1)


def digest(table: pa.Table) -> str:
    """A fingerprint of a table's rows that ignores their order: the sum (mod 2**64) of a hash of
    each row (pandas' hash_pandas_object); vectors are hashed by their bytes."""
    if table.num_rows == 0:
        return "0" * 16
    frame = {}
    for name in sorted(table.column_names):
        column = table.column(name)
        if pa.types.is_fixed_size_list(column.type) and column.null_count == 0:
            values = np.asarray(column.combine_chunks().flatten()).reshape(table.num_rows, column.type.list_size)
            frame[name] = [row.tobytes() for row in values]
        elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type) or pa.types.is_fixed_size_list(column.type):
            frame[name] = [json.dumps(value) for value in column.to_pylist()]
        else:
            frame[name] = column.to_pandas()
    hashes = pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy(dtype=np.uint64)
    return f"{int(hashes.sum(dtype=np.uint64)):016x}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _empty_dir(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(f"{what} expects a new or empty folder, but {path} is not; choose another")


def user_files(settings: Settings) -> list[Path]:
    base = settings.users_file
    return [base if not suffix else base.with_name(base.stem + suffix) for suffix in USER_FILES]


def backup(store: Store, settings: Settings, out: str | Path, *, at: datetime | None = None) -> dict:
    """Write a snapshot of the workspace into `out` (a new or empty folder); returns the manifest."""
    out = Path(out)
    _empty_dir(out, "backup --out")
    started = time.monotonic()
    moment = moment_at(store, at) if at is not None else one_moment(store)
    target = lancedb.connect(str(out / "db"))
    tables, dropped = {}, []
    for name, version in moment.versions.items():
        try:
            source = store.table(name)
            source.checkout(version)
        except Exception:  # noqa: BLE001 - dropped since (an import's side table, once it finished): nothing to read
            dropped.append(name)
            continue
        data = source.to_arrow()
        indexes = [{"columns": list(i.columns), "type": i.index_type} for i in source.list_indices()]
        target.create_table(name, data=data)
        tables[name] = {"version": version, "rows": data.num_rows, "digest": digest(data), "columns": data.column_names,
                        "indexes": indexes}
    meta = read_meta(store) if "meta" in moment.versions else {}
    users = {}
    for path in user_files(settings):
        if path.is_file():
            (out / "users").mkdir(parents=True, exist_ok=True)
            copy = out / "users" / path.name
            shutil.copy2(path, copy)
            os.chmod(copy, 0o600)
            users[path.name] = _sha256(copy)
    models, missing = _copy_models(out, moment, target, settings)
    manifest = {
        "format": FORMAT, "flywheel": flywheel_version(), "lancedb": lancedb.__version__, "schema_version": SCHEMA_VERSION,
        "workspace": store.uri, "models_dir": str(settings.models_dir.resolve()), "users_file": settings.users_file.name,
        "taken_at": moment.taken_at.isoformat(), "at": at.isoformat() if at else None, "exact_moment": moment.exact,
        "passes": moment.passes, KEEP_KEY: keep_days(meta), "tables": tables, "users": users, "models": models,
        "models_missing": missing, "dropped_since": dropped, "seconds": round(time.monotonic() - started, 2),
    }
    scratch = out / (MANIFEST + ".tmp")
    scratch.write_text(json.dumps(manifest, indent=2))
    scratch.replace(out / MANIFEST)  # last: a folder without a manifest is an unfinished backup
    return manifest


def _copy_models(out: Path, moment: Moment, target, settings: Settings) -> tuple[dict, list[str]]:
    """The folders (model, card, pipeline) of the snapshot's succeeded runs; runs still going have none yet."""
    if "runs" not in moment.versions:
        return {}, []
    runs = target.open_table("runs").to_arrow().select(["run_id", "status", "model_path"]).to_pylist()
    models, missing = {}, []
    for run in runs:
        if run["status"] != RunStatus.succeeded.value or not run["model_path"]:
            continue
        folder = Path(run["model_path"]).parent
        if not folder.is_dir():
            missing.append(run["run_id"])  # e.g. trained on another machine of a shared workspace
            continue
        copy = out / "models" / run["run_id"]
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("checkpoints"))
        models[run["run_id"]] = {str(p.relative_to(copy)): _sha256(p) for p in sorted(copy.rglob("*")) if p.is_file()}
    return models, missing


def read_manifest(src: Path) -> dict:
    path = src / MANIFEST
    if not path.is_file():
        raise InputError(f"restore expects a backup folder with {MANIFEST}, but {src} has none (an unfinished or foreign "
                         "backup); pass the folder flywheel backup --out wrote")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise InputError(f"restore expects a backup of format {FORMAT}, but {src} is of format {manifest.get('format')}")
    if manifest["schema_version"] > SCHEMA_VERSION:
        raise InputError(f"restore expects a backup of schema version {SCHEMA_VERSION} or older, but {src} is at "
                         f"{manifest['schema_version']} (Flywheel {manifest['flywheel']}); restore it with that Flywheel or newer")
    return manifest


def _check(condition: bool, what: str, src: Path) -> None:
    if not condition:
        raise InputError(f"restore expects {what} to match the manifest, but it does not: the backup at {src} is damaged "
                         "or was changed; the restored workspace is incomplete, delete it and use another backup")


def restore(src: str | Path, settings: Settings) -> dict:
    """Rebuild the backup at `src` as the workspace of `settings` (which must be new or empty),
    checking every table and file against the manifest; returns what was restored."""
    src = Path(src)
    manifest = read_manifest(src)
    dest_db = settings.db_uri
    if settings.is_local:
        _empty_dir(Path(dest_db), "restore --workspace")
        if settings.users_file.exists():
            raise InputError(f"restore expects a workspace with no users file, but {settings.users_file} exists; "
                             "choose a new --workspace")
    target = lancedb.connect(dest_db)
    if target.list_tables().tables:
        raise InputError(f"restore expects a new or empty workspace, but {dest_db} holds tables; choose a new --workspace")
    backup_db = lancedb.connect(str(src / "db"))
    for name, entry in manifest["tables"].items():
        data = backup_db.open_table(name).to_arrow()
        _check(data.num_rows == entry["rows"] and digest(data) == entry["digest"], f"table '{name}' of the backup", src)
        written = target.create_table(name, data=data).to_arrow()
        _check(written.num_rows == entry["rows"] and digest(written) == entry["digest"], f"restored table '{name}'", src)
    for name, sha in manifest["users"].items():
        suffix = name[len(Path(manifest["users_file"]).stem):]
        dest = settings.users_file.with_name(settings.users_file.stem + suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "users" / name, dest)
        os.chmod(dest, 0o600)
        _check(_sha256(dest) == sha, f"users file {name}", src)
    for run_id, files in manifest["models"].items():
        folder = settings.models_dir / run_id
        shutil.copytree(src / "models" / run_id, folder)
        _check(all(_sha256(folder / rel) == sha for rel, sha in files.items()), f"model folder {run_id}", src)
    store = Store(dest_db)  # migrates a backup of an older schema, rolls back an import it caught half-way
    _relink_models(store, manifest, settings)
    _rebuild_indexes(store, manifest)
    store.log("cli", "restore", "workspace", source=str(src), taken_at=manifest["taken_at"], workspace=manifest["workspace"])
    return {"restored": str(src), "workspace": settings.workspace, "taken_at": manifest["taken_at"],
            "tables": len(manifest["tables"]), "rows": {n: e["rows"] for n, e in manifest["tables"].items()},
            "users_files": len(manifest["users"]), "models": len(manifest["models"]), "checked": True,
            "recovered": store.recovered}


def _relink_models(store: Store, manifest: dict, settings: Settings) -> None:
    """Point the restored runs at their restored folders, and their pipelines at this workspace."""
    for run_id in manifest["models"]:
        folder = settings.models_dir / run_id
        rows = store.read_rows("runs", sql_in("run_id", [run_id]))
        if rows:
            old = Path(rows[0]["model_path"])
            store.update_where("runs", sql_in("run_id", [run_id]), {"model_path": str(folder / old.name)})
        pipeline = folder / "pipeline.json"
        if pipeline.is_file():
            spec = json.loads(pipeline.read_text())
            if spec.get("workspace") == manifest["workspace"]:
                spec["workspace"] = store.uri
                pipeline.write_text(json.dumps(spec, indent=2))


def _rebuild_indexes(store: Store, manifest: dict) -> None:
    """Indexes are not copied: the full-text index where there was one; scalar and vector ones build by size."""
    if any(i["type"] == "FTS" for i in manifest["tables"].get("documents", {}).get("indexes", [])):
        store.ensure_fts_index()
    for name in manifest["tables"]:
        if name.startswith(EMBEDDINGS_PREFIX):
            store.ensure_vector_index(name[len(EMBEDDINGS_PREFIX):])
