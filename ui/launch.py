"""Start Streamlit on app.py with st.navigation routing from the very first request.

Streamlit treats an app with a `pages/` folder beside its main script as an old-style
multipage app until the first st.navigation call, so the first deep link (e.g. /review)
would run that page without the app frame. Clearing the flag before start-up avoids it.

The server's options live here, not in a .streamlit/config.toml that only applies when the
app starts from the repository folder: `flywheel app` behaves the same wherever it starts.
Usage: python ui/launch.py [streamlit run options…] (later options win).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
MAX_UPLOAD_MB = 500

SERVER_OPTIONS = {
    "server.maxUploadSize": str(MAX_UPLOAD_MB),
    "server.address": "127.0.0.1",  # loopback unless --host says otherwise
    # No file watching or run-on-save when serving users: the watcher walks the repository,
    # .venv and the workspace, floods the log with inotify overflows and costs idle CPU.
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "minimal",
    # An uncaught exception shows a generic message, never its traceback or the server's paths
    # (pages show core's FlywheelError messages themselves); --dev shows everything.
    "client.showErrorDetails": "none",
    # Streamlit's gc.collect(2) after every run costs ~0.7 s with torch loaded: grading latency
    # went from a median of 962 ms to 374 ms per key press without it (bench/grade_latency.py).
    "runner.postScriptGC": "false",
}
# OpenMP threads that wait by sleeping, not spinning. On a busy machine torch's spinning intra-op
# threads made one query's embedding take a median 688 ms instead of 21 ms (2 cores, load ~7.5:
# bench/README.md), and every query switch on the Grade page embeds one. Read once, when torch
# loads its OpenMP runtime (first page that embeds), so it is set before; a value already set wins.
SERVER_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}
DEV_OPTIONS = {"server.fileWatcherType": "auto", "server.runOnSave": "true", "client.showErrorDetails": "full"}


def streamlit_args(extra: list[str], *, dev: bool = False) -> list[str]:
    """`streamlit run` arguments: the server options, then the caller's (which win)."""
    options = SERVER_OPTIONS | (DEV_OPTIONS if dev else {})
    args = ["streamlit", "run", str(APP)]
    for name, value in options.items():
        args += [f"--{name}", value]
    return args + extra


def server_environment(environ: MutableMapping[str, str] = os.environ) -> MutableMapping[str, str]:
    """SERVER_ENVIRONMENT's variables, where the environment does not set them already."""
    for name, value in SERVER_ENVIRONMENT.items():
        environ.setdefault(name, value)
    return environ


def preload() -> None:
    """Load the search model on the main thread before serving (~5–10 s, once): a first Grade or Hard
    negatives visit waited that long for it (issue 24). Not in a thread while pages run: a page
    importing scipy while torch was half-imported failed ("partially initialized module 'torch' has no
    attribute 'Tensor'"); scipy looks at sys.modules["torch"] without importing it."""
    if str(APP.parent) not in sys.path:
        sys.path.insert(0, str(APP.parent))  # as Streamlit does for app.py, a little earlier
    from core.errors import FlywheelError
    from ui.background import preload_embedder

    try:
        preload_embedder()
    except FlywheelError:
        pass  # the pages that search say why, as they did before


def main() -> None:
    server_environment()  # before torch loads its OpenMP runtime
    preload()
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    extra = sys.argv[1:]
    dev = "--dev" in extra
    sys.argv = streamlit_args([a for a in extra if a != "--dev"], dev=dev)
    cli.main()


if __name__ == "__main__":
    main()
