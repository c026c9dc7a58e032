"""A zip bomb through `flywheel import`: refused before extraction, with bounded memory.

Builds a BEIR-shaped archive whose corpus.jsonl is N GiB of zeros (about 2 MB compressed),
imports it with the CLI in a child process and reports the child's peak memory (max RSS) and
time, against `flywheel status` on the same workspace (the CLI's own baseline) and against
Python's zipfile reading the same member in full (what the unchecked code did).

    python bench/zip_bomb.py --gib 2.1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 2**20


def build_bomb(path: Path, gib: float) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("bomb/corpus.jsonl", "w", force_zip64=True) as sink:
            zeros = bytes(CHUNK)
            for _ in range(int(gib * 1024)):
                sink.write(zeros)
        archive.writestr("bomb/queries.jsonl", '{"_id": "q", "text": "q?"}\n')


def peak_rss_mb(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """(peak RSS in MB, seconds, exit code, last stderr line) of a child process, via wait4."""
    started = time.time()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss / 1024, time.time() - started, os.waitstatus_to_exitcode(status), (err.strip().splitlines() or [""])[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bomb = Path(scratch) / "bomb.zip"
        build_bomb(bomb, args.gib)
        env = {**os.environ, "FLYWHEEL_WORKSPACE": str(Path(scratch) / "ws"), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        cli = [sys.executable, "-m", "core.commands.main"]
        rss, seconds, code, message = peak_rss_mb([*cli, "import", str(bomb)], env)
        base_rss, _, _, _ = peak_rss_mb([*cli, "status"], env)
        raw = [sys.executable, "-c", f"import zipfile; zipfile.ZipFile({str(bomb)!r}).read('bomb/corpus.jsonl')"]
        raw_rss, raw_s, _, _ = peak_rss_mb(raw, env)
        print(json.dumps({
            "bomb_compressed_mb": round(bomb.stat().st_size / 2**20, 2), "bomb_expanded_gib": args.gib,
            "import_exit_code": code, "import_message": message, "import_peak_rss_mb": round(rss), "import_s": round(seconds, 1),
            "cli_status_peak_rss_mb": round(base_rss), "raw_zipfile_read_peak_rss_mb": round(raw_rss), "raw_zipfile_read_s": round(raw_s, 1),
            "import_vs_raw_rss": round(rss / raw_rss, 3), "extracted_files_left": sum(1 for _ in Path(scratch).rglob("corpus.jsonl")),
            "load": os.getloadavg(), "maxrss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }))


if __name__ == "__main__":
    main()
