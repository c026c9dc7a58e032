"""`flywheel backup | restore | optimize`: snapshots of a live workspace, their restore, and how
long old table versions are kept (core.storage.backup, core.storage.retention)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from core.commands.output import open_store, print_json
from core.errors import InputError
from core.settings import Settings

WORKSPACE_HELP = "the workspace (the same as flywheel --workspace, given after the command)"


def _at(text: str) -> datetime:
    """An ISO time; without a zone it is UTC (as every stored time is); returned as naive UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expects an ISO time such as 2026-12-01T09:00, but got {text!r}") from error
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _backup(settings: Settings, args) -> int:
    from core.storage.backup import backup

    manifest = backup(open_store(settings, create=False), settings, args.out, at=args.at)
    print_json({"backup": args.out, "taken_at": manifest["taken_at"], "exact_moment": manifest["exact_moment"],
                "rows": {name: entry["rows"] for name, entry in manifest["tables"].items()},
                "users_files": len(manifest["users"]), "models": len(manifest["models"]),
                "models_missing": manifest["models_missing"], "seconds": manifest["seconds"]})
    return 0


def _restore(settings: Settings, args) -> int:
    from core.storage.backup import restore

    if args.workspace is None:
        raise InputError("restore expects --workspace DEST (a new or empty workspace to rebuild), but got none")
    print_json(restore(args.src, settings))
    return 0


def _optimize(settings: Settings, args) -> int:
    from core.storage import retention

    store = open_store(settings, create=False)
    if args.keep_versions is not None:
        retention.set_keep_days(store, args.keep_versions)
    report = retention.optimize(store)
    store.log("cli", "optimize", "workspace", **{k: v for k, v in report.items() if k != "problems"})
    print_json(report)
    return 1 if report["problems"] else 0


def register(subparsers) -> None:
    backup = subparsers.add_parser("backup", help="write a consistent snapshot of the workspace (also while people grade)")
    backup.add_argument("--out", required=True, help="a new or empty folder for the backup")
    backup.add_argument("--at", type=_at, default=None,
                        help="snapshot the tables as they were at this ISO time (UTC unless it has a zone), within the kept versions")
    backup.add_argument("--workspace", default=argparse.SUPPRESS, help=WORKSPACE_HELP)
    backup.set_defaults(handler=_backup)

    restore = subparsers.add_parser("restore", help="rebuild a workspace from a backup, checked against its manifest")
    restore.add_argument("src", help="the folder flywheel backup --out wrote")
    restore.add_argument("--workspace", default=argparse.SUPPRESS, help="the new or empty workspace to rebuild (required)")
    restore.set_defaults(handler=_restore)

    optimize = subparsers.add_parser("optimize", help="compact every table and prune table versions older than the retention")
    optimize.add_argument("--keep-versions", type=float, default=None, metavar="DAYS",
                          help="keep earlier table versions this many days (at least 1; recorded in the workspace, default 7)")
    optimize.add_argument("--workspace", default=argparse.SUPPRESS, help=WORKSPACE_HELP)
    optimize.set_defaults(handler=_optimize)
