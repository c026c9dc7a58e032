"""`flywheel demo | import | export | status | app`."""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

from core.commands.output import bars, open_store, print_json
from core.errors import InputError
from core.settings import Settings
from core.storage.auth import Users

LAUNCHER = Path(__file__).resolve().parent.parent.parent / "ui" / "launch.py"


def _demo(settings: Settings, args) -> int:
    from core.storage.demo import load_demo

    result = load_demo(open_store(settings), reset_workspace=args.reset)
    print_json(asdict(result) if result else {"demo": "already loaded", "workspace": settings.workspace})
    return 0


def _import(settings: Settings, args) -> int:
    from core.storage.imports import import_name, import_path
    from core.storage.projects import mixing_warning, summarize

    store = open_store(settings)
    warning = mixing_warning(settings.project, summarize(store), args.name or import_name(args.path))
    if warning:  # said, not refused: a second import of one dataset (a new split) is fine
        print(f"warning: {warning} (flywheel projects create NAME, then --project NAME)", file=sys.stderr)
    with bars(args, "importing") as progress:
        result = import_path(store, args.path, name=args.name, id_prefix=args.id_prefix, progress=progress)
    print_json(asdict(result))
    return 0


def _export(settings: Settings, args) -> int:
    from core.labeling.export import export
    from core.search.models import Embedder

    store = open_store(settings, create=False)
    miner = Embedder(args.model or None) if args.format == "triplets" else None  # mines negatives for queries with none judged
    with bars(args, "embedding documents to mine negatives") as progress:
        counts = export(store, args.format, args.out, embedder=miner, progress=progress, relevant_grade=settings.relevant_grade)
    print_json(counts)
    return 0


def _status(settings: Settings, args) -> int:
    from core.storage.status import status

    print_json({"workspace": settings.workspace, **status(open_store(settings, create=False))})
    return 0


def oidc_configured() -> bool:
    """Whether Streamlit's secrets (where st.login reads them) hold an [auth] section."""
    for path in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            if "auth" in tomllib.loads(path.read_text()):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _app(settings: Settings, args) -> int:
    if not is_loopback(args.host) and not (Users(settings.users_file).enabled or oidc_configured()):
        if not args.insecure:
            raise InputError(
                f"--host {args.host} expects sign-in, but no users file ({settings.users_file}) and no [auth] in "
                ".streamlit/secrets.toml is configured, so anyone who reaches the port could act as anyone; "
                "add users with flywheel users add NAME --role admin, or pass --insecure to serve it anyway"
            )
        print(f"warning: serving on {args.host} without sign-in (--insecure): anyone who reaches port {args.port} "
              "controls this workspace", file=sys.stderr)
    env = {**os.environ, "FLYWHEEL_WORKSPACE": settings.workspace}
    command = [sys.executable, str(LAUNCHER), "--server.port", str(args.port), "--server.address", args.host]
    if args.headless:
        command += ["--server.headless", "true"]
    if args.dev:
        command.append("--dev")
    # The server replaces this process: a stop signal (Ctrl-C, systemd, a test's terminate) reaches
    # Streamlit itself instead of leaving it running orphaned behind a killed parent.
    os.execve(sys.executable, command, env)
    return 0  # not reached


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="load the embedded demo dataset (once; --reset starts the workspace over)")
    demo.add_argument("--reset", action="store_true", help="delete everything in the workspace first")
    demo.set_defaults(handler=_demo)

    imp = subparsers.add_parser("import", help="import a BEIR folder or .zip, a documents .jsonl or .csv (all or nothing)")
    imp.add_argument("path")
    imp.add_argument("--name", help="name of this import (default: the file or folder name)")
    imp.add_argument("--id-prefix", default="", help="prefix every document and query id (to mix datasets whose ids clash)")
    imp.set_defaults(handler=_import)

    exp = subparsers.add_parser("export", help="export judgments, or the few-shot sets")
    exp.add_argument("--format", required=True, choices=["beir", "triplets", "hf", "cohere", "fewshot"])
    exp.add_argument("--out", default="export", help="output folder (default: ./export); for fewshot a .json file or a folder")
    exp.add_argument("--model", default="", help="triplets: model that mines negatives for queries with none judged (default: bundled MiniLM)")
    exp.set_defaults(handler=_export)

    stat = subparsers.add_parser("status", help="counts of what is in the workspace, as JSON")
    stat.set_defaults(handler=_status)

    app = subparsers.add_parser("app", help="start the Streamlit app on this workspace")
    app.add_argument("--port", type=int, default=8501)
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    app.add_argument("--insecure", action="store_true", help="allow a non-loopback --host with no sign-in configured")
    app.add_argument("--headless", action="store_true", help="do not open a browser")
    app.add_argument("--dev", action="store_true", help="watch files and rerun on save (development only)")
    app.set_defaults(handler=_app)
