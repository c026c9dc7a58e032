"""Projects: one dataset each, so an import never lands beside another corpus unnoticed.

A workspace holds projects. The workspace folder itself is the `default` project (what every
workspace held before projects); the others live beside it as full workspaces under
`<workspace>/projects/<slug>/` (their own tables and models), on local disk or object storage
alike. Users and roles stay the workspace's (one users file per server). A project's name
(slug) is made here from a display name and checked again wherever it becomes a path
(core.settings.check_project): a browser never sends a path.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pyarrow import fs as pafs

from core.errors import ConflictError, InputError
from core.settings import DEFAULT_PROJECT, PROJECTS_DIR, Settings, check_project
from core.storage.auth import Action, User, actor_name
from core.storage.schemas import now
from core.storage.store import Store

META = "project.json"  # a folder under projects/ is a project when it holds this file
MAX_NAME = 80
MAX_SLUG = 40


@dataclass(frozen=True)
class Project:
    slug: str  # the name the server made: the folder, the CLI's --project, the app's ?project=
    name: str  # as the person who created it wrote it
    created_by: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class Summary:
    """What Home lists for a project, and what the import's project choice weighs."""

    documents: int
    queries: int
    judgments: int
    runs: int
    sources: tuple[str, ...]  # the imports its documents came from


def slugify(name: str) -> str:
    """'CISI retrieval (2024)' → 'cisi-retrieval-2024': ASCII letters and digits joined by single
    hyphens, at most 40 characters; whatever else the name holds (dots, slashes) is dropped."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].strip("-")
    if not slug:
        raise InputError(f"a project name expects some letters or digits, but got {str(name)[:MAX_NAME]!r}; "
                         "name it after its dataset, e.g. 'CISI'", field="project")
    return slug


def _filesystem(settings: Settings) -> tuple[pafs.FileSystem, str]:
    """The workspace's projects folder as a pyarrow filesystem and path (local disk or object storage)."""
    root = str(Path(settings.workspace).resolve()) if settings.is_local else settings.workspace.rstrip("/")
    if root.startswith("db://"):
        raise InputError(f"projects expect a local or object-storage workspace, but {root} is LanceDB Cloud; "
                         "list one database per dataset in FLYWHEEL_WORKSPACES instead")
    try:
        filesystem, path = pafs.FileSystem.from_uri(root)
    except Exception as error:  # noqa: BLE001 - pyarrow knows local, s3://, gs:// and abfs:// only
        raise InputError(f"projects expect a local, s3://, gs:// or abfs:// workspace, but got {root} ({error}); "
                         "list one workspace per dataset in FLYWHEEL_WORKSPACES instead") from None
    return filesystem, f"{path.rstrip('/')}/{PROJECTS_DIR}"


def _read_meta(filesystem: pafs.FileSystem, folder: str) -> Project | None:
    slug = folder.rstrip("/").rsplit("/", 1)[-1]
    if not _is_slug(slug):
        return None
    try:
        with filesystem.open_input_stream(f"{folder}/{META}") as stream:
            meta = json.loads(stream.read().decode())
    except (FileNotFoundError, OSError, ValueError):
        return None  # not a project (a stray folder) or one half made
    return Project(slug=slug, name=str(meta.get("name") or slug)[:MAX_NAME], created_by=str(meta.get("created_by", "")),
                   created_at=str(meta.get("created_at", "")))


def _is_slug(slug: str) -> bool:
    try:
        check_project(slug)
    except InputError:
        return False
    return slug != DEFAULT_PROJECT


def list_projects(settings: Settings) -> list[Project]:
    """The default project first, then the others by name. A workspace on LanceDB Cloud has only the default."""
    default = Project(slug=DEFAULT_PROJECT, name=DEFAULT_PROJECT)
    if settings.workspace.startswith("db://"):
        return [default]
    filesystem, folder = _filesystem(settings)
    entries = filesystem.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    found = (_read_meta(filesystem, entry.path) for entry in entries if entry.type == pafs.FileType.Directory)
    return [default, *sorted((p for p in found if p is not None), key=lambda p: (p.name.lower(), p.slug))]


def find_project(settings: Settings, slug: str) -> Project:
    """The project named `slug`; an unknown name says which exist."""
    check_project(slug)
    projects = list_projects(settings)
    for project in projects:
        if project.slug == slug:
            return project
    raise InputError(f"a project expects one of the workspace's names ({', '.join(p.slug for p in projects)}), but got '{slug}'; "
                     "create it first (flywheel projects create NAME, or Home in the app)", field="project")


def create_project(settings: Settings, name: str, actor: str | User = "cli",
                   open_store: Callable[[Settings], Store] | None = None) -> tuple[Project, Store]:
    """Make an empty project named after `name` (its slug refused when taken) and open its tables
    (with `open_store` where the caller keeps one Store per project, as the app does).
    Engineers and admins only: a project is where an import goes."""
    actor = actor_name(actor, Action.import_data)
    name = " ".join((name or "").split())[:MAX_NAME]
    slug = slugify(name)
    if slug == DEFAULT_PROJECT or any(p.slug == slug for p in list_projects(settings)):
        raise ConflictError(f"a new project expects a name not yet taken, but '{slug}' exists; "
                            "choose it from the list, or give another name")
    filesystem, folder = _filesystem(settings)
    home = f"{folder}/{slug}"
    project = Project(slug=slug, name=name, created_by=actor, created_at=now().isoformat(timespec="seconds"))
    if isinstance(filesystem, pafs.LocalFileSystem):
        os.makedirs(folder, exist_ok=True)
        try:
            os.mkdir(home)  # atomic: two people creating one name at once, one of them is refused
        except FileExistsError:
            raise ConflictError(f"a new project expects a name not yet taken, but '{slug}' was just made; choose it from the list") from None
    else:
        filesystem.create_dir(home)
    with filesystem.open_output_stream(f"{home}/{META}") as stream:
        stream.write(json.dumps(asdict(project)).encode())
    inside = settings.for_project(slug)
    store = open_store(inside) if open_store else Store(inside.db_uri)
    store.log(actor, "create_project", f"project:{slug}", name=name)
    return project, store


def summarize(store: Store) -> Summary:
    """A project's counts and the imports its documents came from."""
    sources = store.read("documents", columns=["source"])["source"]
    return Summary(documents=store.count("documents"), queries=store.count("queries"), judgments=store.count("judgments"),
                   runs=store.count("runs"), sources=tuple(sorted({s for s in sources if s})))


def mixing_warning(project: str, summary: Summary, source: str) -> str | None:
    """What to say before an import named `source` goes into a project holding other imports' documents
    (the next run would train and evaluate on both); None when it holds none."""
    others = [s for s in summary.sources if s != source]
    if not others:
        return None
    listed = ", ".join(f"'{s}'" for s in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return (f"Project '{project}' already holds {summary.documents:,} documents from {listed}: importing '{source}' here mixes "
            "the corpora, and the next run will train and evaluate on both. Import into a new project to keep them apart.")
