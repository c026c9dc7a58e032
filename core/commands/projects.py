"""`flywheel projects list | create`: one project per dataset; `--project NAME` runs any command inside one."""

from __future__ import annotations

from dataclasses import asdict

from core.commands.output import open_store, print_json
from core.settings import Settings


def _list(settings: Settings, args) -> int:
    from core.storage.projects import list_projects, summarize

    rows = []
    for project in list_projects(settings):
        inside = settings.for_project(project.slug)
        counts = asdict(summarize(open_store(inside, create=False))) if inside.exists else {}
        rows.append({**asdict(project), **counts})
    print_json(rows)
    return 0


def _create(settings: Settings, args) -> int:
    from core.storage.demo import load_demo
    from core.storage.projects import create_project

    project, store = create_project(settings, args.name)
    loaded = load_demo(store) if args.demo else None
    print_json({**asdict(project), "demo": asdict(loaded) if loaded else None})
    return 0


def register(subparsers) -> None:
    projects = subparsers.add_parser("projects", help="the workspace's projects, one per dataset (--project NAME works inside one)")
    actions = projects.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", help="each project's name and counts (documents, queries, judgments, runs, sources), as JSON")
    listed.set_defaults(handler=_list)
    create = actions.add_parser("create", help="a new, empty project named after NAME (its name is made from NAME: 'CISI 2024' → cisi-2024)")
    create.add_argument("name", help="a display name; the project's name is made from it, and refused when taken")
    create.add_argument("--demo", action="store_true", help="load the demo dataset into it")
    create.set_defaults(handler=_create)
