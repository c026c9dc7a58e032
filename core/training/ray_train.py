"""A bi-encoder run on a Ray cluster: Ray Train's TorchTrainer starts N workers and their torch
process group, and each worker runs the run's usual job body (`run.execute`), as each rank of an
`accelerate launch` does. SentenceTransformerTrainer sees the process group and trains
data-parallel; rank 0 alone writes the run's progress, metrics and model (`Reporter.primary`,
from the RANK that Ray Train sets), the others only train.

The driver (the CLI) creates the run row, so the run exists and can be cancelled from the app
while workers start. A worker that fails or is cancelled raises, so Ray Train stops the whole
group rather than leaving the other ranks waiting in a collective; the driver then records the
failure if rank 0 had not. Ray is imported here only, and only when called.
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.search.ray_embed import connect
from core.settings import Settings
from core.storage.auth import User
from core.storage.schemas import RunKind, RunStatus, now
from core.storage.store import Store
from core.training.config import TrainConfig
from core.training.jobs import ACTIVE, Job, new_run
from core.training.run import execute


def worker_loop(payload: dict[str, Any]) -> None:
    """One Ray Train worker: the run's job body on this rank (Ray set RANK before calling it)."""
    # Every worker writes models where the driver would (an absolute path: workers start in their own folder).
    os.environ["FLYWHEEL_MODELS"] = payload["models_dir"]
    if not payload["use_gpu"]:  # as `accelerate launch --cpu` does: without it, transformers sees no GPU and trains alone
        os.environ["ACCELERATE_USE_CPU"] = "true"
    settings: Settings = payload["settings"]
    store = Store(settings.db_uri)
    job = Job(store, settings, payload["run_id"], execute, payload["config"], float(payload["config"].get("time_budget_s") or 0))
    if not job.primary:
        execute(store, settings, job.run_id, job.config, job.reporter)  # an error here ends the group (Ray Train)
        return
    job.run()  # rank 0 records running, succeeded, failed or cancelled in the row, as any run does
    status = job.status()
    if status != RunStatus.succeeded.value:
        raise RuntimeError(f"run {job.run_id} ended {status} on rank 0; its row holds the reason")


def train_with_ray(store: Store, settings: Settings, config: TrainConfig, address: str | None = None, workers: int = 2,
                   use_gpu: bool = False, actor: str | User = "cli") -> Job:
    """Create the run row, train on `workers` Ray Train workers, and return the run's job (its
    row has the outcome). Only the bi-encoder trains data-parallel this way."""
    resolved = config.resolved()
    if resolved.kind != RunKind.bi_encoder.value:
        raise InputError(f"train --ray expects --kind bi-encoder, but got '{resolved.kind}'; the other kinds train in one process.")
    if workers < 1:
        raise InputError(f"train --ray expects --workers of 1 or more, but got {workers}.")
    connect(address)
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    if settings.is_local:  # workers do not share the driver's working folder
        settings = replace(settings, workspace=str(Path(settings.workspace).resolve()))
    job = new_run(store, settings, resolved.kind, asdict(resolved), execute, actor)
    payload = {"settings": settings, "models_dir": str(settings.models_dir.resolve()), "run_id": job.run_id, "config": job.config,
               "use_gpu": use_gpu}
    trainer = TorchTrainer(
        worker_loop, train_loop_config=payload, scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu),
        run_config=RunConfig(name=f"flywheel-{job.run_id}"),
    )
    try:
        trainer.fit()
    except Exception as error:  # noqa: BLE001 - Ray wraps every worker failure; the run row records it
        store.update_where(
            "runs", {"run_id": job.run_id, "status": ACTIVE},
            {"status": RunStatus.failed.value, "error": f"a Ray Train worker failed: {error}", "finished_at": now()},
        )
    return job
