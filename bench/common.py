"""Shared bench plumbing: run each kind with default settings in the foreground and time it."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = Path(os.environ.get("FLYWHEEL_DATASETS", ROOT.parent / "shared" / "datasets"))  # a worktree sets it: /work/shared/datasets


def dataset_workspace(dataset: str, prefix: str = "flywheel-bench"):
    """A fresh workspace holding `dataset`: the demo, or a BEIR folder of DATASETS imported as it is."""
    import tempfile

    from core.settings import Settings
    from core.storage.demo import load_demo
    from core.storage.imports import import_path
    from core.storage.store import Store

    store = Store(Settings(workspace=tempfile.mkdtemp(prefix=f"{prefix}-{dataset}-")).db_uri)
    if dataset == "demo":
        load_demo(store)
    else:
        import_path(store, DATASETS / dataset, name=dataset)
    return store


def run_kinds(store, settings, kinds: list[str], extra: dict | None = None) -> list[dict]:
    from core.evaluation import metrics
    from core.training.config import TrainConfig
    from core.training.jobs import read_run
    from core.training.run import launch

    results = []
    for kind in kinds:
        started, cpu, load = time.time(), time.process_time(), os.getloadavg()[0]
        job = launch(store, settings, TrainConfig(kind=kind, **(extra or {})), background=False)
        row = read_run(store, job.run_id)
        wall, cpu_s = round(time.time() - started, 1), round(time.process_time() - cpu, 1)
        before, after = job.result.get("before", {}), job.result.get("after", {})
        result = {"kind": kind, "run_id": job.run_id, "status": row["status"], "wall_s": wall, "cpu_s": cpu_s, "error": row["error"][:500],
                  "before": {n: round(before.get(n, 0.0), 4) for n in metrics.SUMMARY}, "after": {n: round(after.get(n, 0.0), 4) for n in metrics.SUMMARY},
                  "snapshot": row["snapshot"], "training": job.result.get("training", {}), "p": p_values(store, job.run_id, row["status"]),
                  "timings": row["progress"].get("timings", {}), "load_1min": [round(load, 1), round(os.getloadavg()[0], 1)],
                  # each pipeline of the ladder on the eval queries: nDCG@10 and the paired p against the rung below it
                  "ladder": {r["name"]: {"ndcg@10": r["value"], "ci": [r["ci_low"], r["ci_high"]], "p_vs_below": r["p_vs_below"],
                                         "p_vs_best_untrained": r["p_vs_best_untrained"], "delta_vs_best_untrained": r["delta_vs_best_untrained"]}
                             for r in row["progress"].get("ladder", [])},
                  "pipeline": job.result.get("pipeline", {}).get("describe", ""),
                  "shipped": job.result.get("pipeline", {}).get("shipped_rung", ""),
                  "headline": job.result.get("pipeline", {}).get("headline", "")}
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


def flags(argv: list[str]) -> tuple[list[str], dict]:
    """Kinds and TrainConfig overrides from the command line: `--warm-start` / `--no-warm-start`
    set the cross-encoder's warm start either way, and `name=value` sets any other TrainConfig
    field (`negatives_per_query=1 eval_steps=7`, `cross_encoder_loss=lambda`), so a candidate default is measured by the same
    script as the default; without them the defaults apply."""
    from dataclasses import fields

    from core.training.config import TrainConfig

    known = {f.name: f for f in fields(TrainConfig)}
    extra: dict = {}
    if "--warm-start" in argv:
        extra["warm_start"] = True
    if "--no-warm-start" in argv:
        extra["warm_start"] = False
    kinds = []
    for arg in argv:
        if arg.startswith("--"):
            continue
        if "=" not in arg:
            kinds.append(arg)
            continue
        name, value = arg.split("=", 1)
        if name not in known:
            raise SystemExit(f"bench expects name=value with a TrainConfig field ({', '.join(sorted(known))}), but got '{name}'.")
        default = known[name].default
        extra[name] = value.lower() in {"1", "true", "yes"} if isinstance(default, bool) else type(default)(value) if default is not None else int(value) if value.isdigit() else float(value)
    return kinds, extra


def p_values(store, run_id: str, status: str) -> dict[str, float]:
    """Paired randomization p-value of before vs after over the eval queries, per headline metric."""
    from core.evaluation import results

    if status != "succeeded":
        return {}
    data = results.load_run(store, run_id)
    return {m: round(results.headline(data, m)["p_value"], 4) for m in ("ndcg@10", "recall@5")}


def table(results: list[dict]) -> str:
    from core.evaluation.metrics import SUMMARY

    lines = ["| kind | wall s | " + " | ".join(f"{n} before → after" for n in SUMMARY) + " | p (nDCG@10) |", "|---|---|" + "---|" * (len(SUMMARY) + 1)]
    for r in results:
        cells = " | ".join(f"{r['before'][n]:.4f} → {r['after'][n]:.4f}" for n in SUMMARY)
        lines.append(f"| {r['kind']} ({r['status']}) | {r['wall_s']} | {cells} | {r['p'].get('ndcg@10', '–')} |")
    lines += ["", "| kind | ladder: nDCG@10 (p vs the rung below) | ships |", "|---|---|---|"]
    for r in results:
        rungs = ", ".join(f"{name} {v['ndcg@10']:.4f}" + (f" (p {v['p_vs_below']:.3g})" if v["p_vs_below"] is not None else "")
                          for name, v in r.get("ladder", {}).items())
        lines.append(f"| {r['kind']} | {rungs} | {r.get('pipeline', '')} |")
    return "\n".join(lines)


def beir_split_bench(dataset: str, argv: list[str]) -> None:
    """Import a BEIR folder from DATASETS into a fresh workspace, split its queries 70/30 (seeded)
    and run each kind (from `argv`, as `flags` reads it; default all three) with default settings
    or the `name=value` overrides: the shared body of the per-dataset benches."""
    import tempfile

    from core.settings import Settings
    from core.storage.imports import import_path
    from core.storage.splits import assign_splits
    from core.storage.store import Store

    workspace = tempfile.mkdtemp(prefix=f"flywheel-{dataset}-")
    store = Store(Settings(workspace=workspace).db_uri)
    import_path(store, DATASETS / dataset, name=dataset)
    print(assign_splits(store, eval_fraction=0.3, seed=0, reset=True), flush=True)
    kinds, extra = flags(argv)
    print(table(run_kinds(store, Settings(workspace=workspace), kinds or ["bi-encoder", "cross-encoder", "adapter"], extra)))
