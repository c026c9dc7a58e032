"""Projects: names the server makes (never a path), listing with counts, creation and its clashes,
each project's own tables, and the CLI's `projects` and `--project`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from core.commands.main import main
from core.errors import ConflictError, InputError
from core.settings import DEFAULT_PROJECT, Settings
from core.storage.auth import PermissionDenied, Role, User
from core.storage.imports import import_path
from core.storage.projects import create_project, find_project, list_projects, mixing_warning, slugify, summarize
from core.storage.store import Store

ASTRO_DOCS = [
    ("a1", "Red giants", "A red giant is a dying star that has swollen after its core ran out of hydrogen."),
    ("a2", "White dwarfs", "A white dwarf is the dense core a sun-like star leaves behind."),
    ("a3", "Neutron stars", "A neutron star forms when a massive star's core collapses in a supernova."),
    ("a4", "Black holes", "A black hole's gravity is so strong that not even light escapes its event horizon."),
    ("a5", "Exoplanets", "Exoplanets orbit stars other than the Sun; transits dim their star's light."),
    ("a6", "Comets", "Comets are icy bodies whose tails point away from the Sun."),
]
ASTRO_QUERIES = {"t1": ("what is a red giant", "a1"), "t2": ("how does a neutron star form", "a3"),
                 "t3": ("why do comet tails point away", "a6"), "e1": ("what is left after a sun like star dies", "a2"),
                 "e2": ("can light escape a black hole", "a4")}


def astro_zip(folder: Path, name: str = "astro") -> Path:
    """A tiny BEIR .zip on astronomy (nothing like the health-plan documents): 6 documents,
    3 train and 2 test queries with one relevant document each."""
    archive = folder / f"{name}.zip"
    folder.mkdir(parents=True, exist_ok=True)
    train = "".join(f"{q}\t{d}\t1\n" for q, (_, d) in ASTRO_QUERIES.items() if q.startswith("t"))
    test = "".join(f"{q}\t{d}\t1\n" for q, (_, d) in ASTRO_QUERIES.items() if q.startswith("e"))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{name}/corpus.jsonl", "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in ASTRO_DOCS))
        zf.writestr(f"{name}/queries.jsonl", "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, (t, _) in ASTRO_QUERIES.items()))
        zf.writestr(f"{name}/qrels/train.tsv", "query-id\tcorpus-id\tscore\n" + train)
        zf.writestr(f"{name}/qrels/test.tsv", "query-id\tcorpus-id\tscore\n" + test)
    return archive


@pytest.mark.parametrize(("name", "slug"), [("CISI", "cisi"), ("CISI retrieval (2024)", "cisi-retrieval-2024"), ("Café Ünïcode", "cafe-unicode"),
                                            ("../x", "x"), ("../../etc/passwd", "etc-passwd"), ("a/b\\c", "a-b-c"), (" -x- ", "x"),
                                            ("y" * 39 + "-z" + "w" * 30, "y" * 39)])
def test_a_slug_is_letters_digits_and_inner_hyphens_only(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["", "..", "/", "../..", "***", "日本語"])
def test_a_name_without_letters_or_digits_is_refused(name):
    with pytest.raises(InputError, match="a project name expects some letters or digits"):
        slugify(name)


@pytest.mark.parametrize("slug", ["../x", "..", "x/y", "/tmp/x", "X", "-x", "x-", "a.b", "", "x" * 41])
def test_a_project_that_is_not_a_slug_never_becomes_a_path(slug, tmp_path):
    with pytest.raises(InputError, match="a project expects a name of 1–40 lowercase letters"):
        Settings(workspace=str(tmp_path), project=slug)
    with pytest.raises(InputError):
        Settings(workspace=str(tmp_path)).for_project(slug)
    with pytest.raises(InputError):
        find_project(Settings(workspace=str(tmp_path)), slug)


def test_a_project_lives_under_the_workspace_and_shares_its_users(tmp_path, monkeypatch):
    monkeypatch.delenv("FLYWHEEL_MODELS", raising=False)
    monkeypatch.delenv("FLYWHEEL_USERS", raising=False)
    root = Settings(workspace=str(tmp_path / "ws"))
    cisi = root.for_project("cisi")
    assert root.project == DEFAULT_PROJECT and root.db_uri == str(tmp_path / "ws" / "db")  # as before projects
    assert cisi.db_uri == str(tmp_path / "ws" / "projects" / "cisi" / "db")
    assert cisi.models_dir == tmp_path / "ws" / "projects" / "cisi" / "models"
    assert cisi.users_file == root.users_file == tmp_path / "ws" / "users.json"
    assert Settings(workspace="s3://bucket/ws/", project="cisi").db_uri == "s3://bucket/ws/projects/cisi"
    with pytest.raises(InputError, match="projects expect a local or object-storage workspace"):
        Settings(workspace="db://my-db", project="cisi")


def test_projects_are_listed_default_first_with_their_own_counts(small_store, workspace, tmp_path):
    assert [p.slug for p in list_projects(workspace)] == [DEFAULT_PROJECT]
    zeta, zeta_store = create_project(workspace, "Zeta set", actor="eve")
    astro, astro_store = create_project(workspace, "Astro", actor="eve")
    import_path(astro_store, astro_zip(tmp_path / "files"))
    (Path(workspace.workspace) / "projects" / "stray").mkdir()  # a folder without project.json is no project
    (Path(workspace.workspace) / "projects" / "Bad.Name").mkdir()
    (Path(workspace.workspace) / "projects" / "Bad.Name" / "project.json").write_text('{"name": "x"}')
    listed = list_projects(workspace)
    assert [p.slug for p in listed] == [DEFAULT_PROJECT, "astro", "zeta-set"]
    assert listed[2].name == "Zeta set" and listed[2].created_by == "eve" and listed[2].created_at
    assert summarize(small_store) == summarize(Store(workspace.db_uri))
    here, there = summarize(small_store), summarize(astro_store)
    assert (here.documents, here.queries, here.judgments, here.runs, here.sources) == (12, 8, 16, 0, ("small",))
    assert (there.documents, there.queries, there.judgments, there.runs, there.sources) == (6, 5, 5, 0, ("astro",))
    assert summarize(zeta_store).documents == 0 and small_store.count("documents") == 12  # nothing leaked either way
    assert find_project(workspace, "astro") == listed[1]
    assert zeta_store.count("events", "action = 'create_project' AND actor = 'eve'") == 1


def test_a_taken_name_is_refused_and_a_traversal_name_stays_inside(workspace, tmp_path):
    create_project(workspace, "CISI")
    for taken in ("cisi", "  Cisi ", "default", "DEFAULT"):
        with pytest.raises(ConflictError, match="a new project expects a name not yet taken"):
            create_project(workspace, taken)
    project, _ = create_project(workspace, "../../outside")
    assert project.slug == "outside" and project.name == "../../outside"
    assert (Path(workspace.workspace) / "projects" / "outside" / "project.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workspace"]


def test_only_engineers_and_admins_create_projects(workspace):
    for role in (Role.viewer, Role.annotator):
        with pytest.raises(PermissionDenied):
            create_project(workspace, "mine", actor=User("ann", role))
    assert [p.slug for p in list_projects(workspace)] == [DEFAULT_PROJECT]
    project, _ = create_project(workspace, "mine", actor=User("eve", Role.engineer))
    assert project.created_by == "eve"


def test_the_mixing_warning_names_the_other_imports(small_store):
    summary = summarize(small_store)
    assert mixing_warning("default", summary, "small") is None  # the same import again: no other corpus
    warning = mixing_warning("default", summary, "cisi")
    assert "already holds 12 documents from 'small'" in warning and "train and evaluate on both" in warning


def test_cli_creates_lists_and_imports_into_a_project(small_store, workspace, tmp_path, capsys):
    archive = astro_zip(tmp_path / "files")
    assert main(["projects", "create", "Astro"]) == 0
    assert json.loads(capsys.readouterr().out)["slug"] == "astro"
    assert main(["--project", "astro", "import", str(archive)]) == 0
    assert "warning" not in capsys.readouterr().err  # an empty project: nothing to mix with
    assert main(["--project", "astro", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 6
    assert small_store.count("documents") == 12  # the default project did not get them
    assert main(["projects", "list"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["slug"], r["documents"], r["sources"]) for r in rows] == [("default", 12, ["small"]), ("astro", 6, ["astro"])]


def test_cli_warns_before_mixing_corpora_and_refuses_unknown_projects(small_store, workspace, tmp_path, capsys):
    assert main(["import", str(astro_zip(tmp_path / "files"))]) == 0
    err = capsys.readouterr().err
    assert "warning: Project 'default' already holds 12 documents from 'small'" in err and "--project NAME" in err
    for bad in ("nope", "../x"):
        assert main(["--project", bad, "status"]) == 2
        assert "a project expects" in capsys.readouterr().err
    assert not (Path(workspace.workspace) / "projects").exists()  # nothing made on the fly
