"""`flywheel embed --ray` and `flywheel train --ray` on a local Ray cluster started in-process (2 CPUs):
the same embeddings as the in-process path, resumable without duplicate rows, and a data-parallel
run that completes with its metrics. Skipped when the [ray] extra is not installed (a failure in
CI, where FLYWHEEL_REQUIRE_RAY is set)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from core.commands.main import main
from core.storage.demo import load_demo
from core.storage.store import sql_in
from core.training.jobs import request_cancel
from tests.conftest import ROOT
from tests.tiny_model import build_tiny_model

RAY_MISSING = importlib.util.find_spec("ray") is None
REASON = "ray is not installed: pip install -e '.[ray]' (the [ray] extra) to run the Ray tests"
needs_ray = pytest.mark.skipif(RAY_MISSING and not os.environ.get("FLYWHEEL_REQUIRE_RAY"), reason=REASON)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def ray_cluster():
    if RAY_MISSING:
        pytest.fail(REASON)  # only reached with FLYWHEEL_REQUIRE_RAY set (CI)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _vectors(store, key: str) -> dict[str, np.ndarray]:
    frame = store.read_embeddings(key, columns=("doc_id", "vector"))
    return dict(zip(frame["doc_id"], np.vstack(frame["vector"].to_numpy()).astype(np.float32)))


@needs_ray
def test_embed_on_ray_matches_in_process_and_resumes_without_duplicates(store, workspace, tiny, ray_cluster, capsys):
    load_demo(store)
    docs = store.count("documents")
    assert main(["embed", "--model", tiny]) == 0
    local = _last_json(capsys)
    assert local["embedded"] == docs == local["rows"]
    expected = _vectors(store, local["model_key"])
    table = store.embeddings_name(local["model_key"])
    store.drop(table)

    assert main(["embed", "--ray", "--model", tiny, "--gpus-per-worker", "1"]) == 2  # this cluster has no GPU
    assert "expects a cluster with GPUs, but it has 0" in capsys.readouterr().err
    assert main(["embed", "--ray", "--model", tiny]) == 0
    first = _last_json(capsys)
    assert (first["model_key"], first["embedded"], first["rows"], first["workers"]) == (local["model_key"], docs, docs, 2)
    got = _vectors(store, first["model_key"])
    assert got.keys() == expected.keys()
    worst = max(float(np.abs(got[d] - expected[d]).max()) for d in expected)
    assert worst < 1e-5, f"Ray embeddings differ from the in-process ones by up to {worst}"

    # A run that stopped part-way (rows missing) and an edited document: only those are embedded again.
    lost = sorted(expected)[:40]
    store.delete(table, sql_in("doc_id", lost))
    edited = sorted(expected)[-1]
    store.update_where("documents", f"doc_id = '{edited}'", {"text": "an edited text about deductibles"})
    assert main(["embed", "--ray", "--model", tiny]) == 0
    resumed = _last_json(capsys)
    assert (resumed["embedded"], resumed["rows"]) == (len(lost) + 1, docs)
    assert store.count(table) == len(set(store.read_embeddings(first["model_key"], columns=("doc_id",))["doc_id"])) == docs

    assert main(["embed", "--ray", "--model", tiny]) == 0
    again = _last_json(capsys)
    assert (again["embedded"], again["rows"], again["workers"]) == (0, docs, 0)
    final = _vectors(store, first["model_key"])
    assert max(float(np.abs(final[d] - expected[d]).max()) for d in lost) < 1e-5
    assert not np.allclose(final[edited], expected[edited])


@needs_ray
def test_train_on_ray_completes_with_metrics_written_once(store, workspace, tiny, ray_cluster, capsys):
    load_demo(store)  # ~190 training rows: a few batches on each of the two ranks
    assert main(["train", "--ray", "--workers", "2", "--base-model", tiny, "--max-steps", "3"]) == 0
    result = _last_json(capsys)
    assert result["status"] == "succeeded"
    assert result["training"]["processes"] == 2  # data-parallel over both workers, not one process
    assert result["training"]["steps"] == 3
    assert {"ndcg@10", "recall@10"} <= result["before"].keys() and {"ndcg@10", "recall@10"} <= result["after"].keys()
    assert os.path.isfile(os.path.join(result["model_path"], "config.json"))
    runs = store.read("runs", columns=["run_id", "status"])
    assert list(runs["run_id"]) == [result["run_id"]]  # the driver made one row; the ranks wrote into it
    metrics = store.read("metrics", where=f"run_id = '{result['run_id']}'", columns=["stage", "name", "k"])
    assert not metrics.duplicated().any()  # rank 0 alone wrote the metrics
    assert set(metrics["stage"]) == {"before", "after", "bm25", "hybrid", "tuned-dense", "tuned-hybrid"}  # the ladder, once


@needs_ray
def test_cancelling_a_ray_run_stops_every_rank(store, workspace, tiny, ray_cluster, capsys):
    """Rank 0 alone sees the cancel; the other rank must stop at the same step, not wait in a collective."""
    load_demo(store)
    codes: list[int] = []
    # No validation (so no early stop) and a step cap far away: only the cancel ends this run.
    argv = ["train", "--ray", "--workers", "2", "--base-model", tiny, "--max-steps", "100000", "--epochs", "1000", "--validation-fraction", "0"]
    worker = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = store.read("runs", columns=["run_id", "progress"])
        if len(runs) and json.loads(runs["progress"].iloc[0] or "{}").get("step", 0) >= 3:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the Ray run never reached its third training step")
    request_cancel(store, runs["run_id"].iloc[0], "cli")
    worker.join(timeout=120)
    assert not worker.is_alive(), "a rank kept training (or waiting) after the cancel"
    assert codes == [1]
    assert store.read("runs", columns=["status"])["status"].iloc[0] == "cancelled"


@needs_ray
def test_train_on_ray_that_fails_on_its_workers_ends_failed_with_the_reason(small_store, workspace, ray_cluster, capsys):
    assert main(["train", "--ray", "--workers", "2", "--base-model", str(workspace.models_dir / "no-such-model")]) == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["status"] == "failed"
    row = small_store.read("runs", columns=["status", "error"]).iloc[0]
    assert row["status"] == "failed" and "no-such-model" in row["error"]  # every rank failed; none left waiting


def test_embed_in_process_embeds_new_documents_once(small_store, workspace, tiny, capsys):
    assert main(["embed", "--model", tiny]) == 0
    first = _last_json(capsys)
    assert (first["embedded"], first["documents"], first["rows"]) == (12, 12, 12)
    assert main(["embed", "--model", tiny]) == 0
    assert (_last_json(capsys)["embedded"], small_store.count(small_store.embeddings_name(first["model_key"]))) == (0, 12)
    assert main(["embed", "--workers", "2"]) == 2  # --workers belongs to --ray
    assert "only with --ray" in capsys.readouterr().err


def test_train_on_ray_refuses_kinds_that_do_not_train_data_parallel(small_store, workspace, capsys):
    assert main(["train", "--ray", "--kind", "adapter"]) == 2
    assert "expects --kind bi-encoder" in capsys.readouterr().err
    assert main(["train", "--workers", "2"]) == 2
    assert "--workers only with --ray" in capsys.readouterr().err
    assert small_store.count("runs") == 0


def test_the_app_and_cli_never_import_ray():
    code = "import sys, core.commands.main as m; m.build_parser(); import ui.launch; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
