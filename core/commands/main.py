"""The `flywheel` command line: the same core functions the UI calls.

Each area adds its subcommands in its own module under core/commands/ with a
`register(subparsers)` function; this file only builds the parser and dispatches
(`output` is how they print).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from core.errors import FlywheelError
from core.settings import Settings

NOT_AREAS = {"main", "output"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flywheel", description="Flywheel: the data flywheel of retrieval.")
    parser.add_argument("--workspace", help="LanceDB URI of the workspace (default: $FLYWHEEL_WORKSPACE or ./workspace)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    import core.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name not in NOT_AREAS:
            importlib.import_module(f"core.commands.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(args.workspace)
    try:
        return args.handler(settings, args) or 0
    except FlywheelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
