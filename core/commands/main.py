"""The `flywheel` command line: the same core functions the UI calls.

Each area adds its subcommands in its own module under core/commands/ with a
`register(subparsers)` function; this file only builds the parser and dispatches
(`output` is how they print).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from core.errors import FlywheelError
from core.settings import Settings

NOT_AREAS = {"main", "output"}
QUIET = "no progress on stderr (errors and notes still go there); stdout is the same"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flywheel", description="Flywheel: the data flywheel of retrieval.")
    parser.add_argument("--workspace", help="LanceDB URI of the workspace (default: $FLYWHEEL_WORKSPACE or ./workspace)")
    parser.add_argument("--project", help="the workspace's project to work in (default: the workspace itself; see flywheel projects list)")
    parser.add_argument("--quiet", "-q", action="store_true", help=QUIET)
    subparsers = parser.add_subparsers(dest="command", required=True)
    import core.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name not in NOT_AREAS:
            importlib.import_module(f"core.commands.{info.name}").register(subparsers)
    for sub in subparsers.choices.values():  # also after the command (flywheel train --quiet); absent there, the global one holds
        sub.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help=QUIET)
    return parser


def silence_library_bars() -> None:
    """Turn off the libraries' own tqdm bars (transformers loading weights, sentence-transformers
    mining and writing model cards): they interleave with the CLI's bars, which already say what
    phase the work is in. tqdm takes its defaults from TQDM_* variables when it is first imported,
    so this imports it at once, under TQDM_DISABLE, and leaves the environment as it was (child
    processes unchanged); the CLI's own bars ask for display explicitly. A user's TQDM_DISABLE wins."""
    if "tqdm" in sys.modules or "TQDM_DISABLE" in os.environ:
        return
    os.environ["TQDM_DISABLE"] = "1"
    try:
        import tqdm  # noqa: F401
    finally:
        del os.environ["TQDM_DISABLE"]


def main(argv: list[str] | None = None) -> int:
    silence_library_bars()
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(args.workspace, args.project)
        if args.project and args.command != "projects":  # an unknown name must not make a project on the fly
            from core.storage.projects import find_project

            find_project(settings, args.project)
        return args.handler(settings, args) or 0
    except FlywheelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
