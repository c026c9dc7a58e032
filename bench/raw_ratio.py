"""Flywheel against the raw libraries, measured in the same run on the demo (ratios, not seconds).

    python bench/raw_ratio.py [--steps 10] [--eval-steps 5] [--presses 12] [--train-threads 0] [--skip train,grade]

- train_ratio: one bi-encoder run through Flywheel (`launch`, foreground: data, mining, before,
  train, after, metrics stored) over a plain script on the same pairs and settings: load the
  model, InformationRetrievalEvaluator before, SentenceTransformerTrainer with the same
  arguments and validation schedule, save, evaluator after. Target <= 1.10.
- embed_ratio: throughput of Flywheel's embed-and-store (`ensure_corpus_embeddings` into a fresh
  embeddings table) over raw `model.encode` of the same texts, both in the inference precision
  (the Embedder's model, bf16 autocast where native). Target >= 0.95.
- reeval_ratio: re-evaluating an unchanged model (rankings + pytrec_eval) over its first
  evaluation, which embedded the corpus. Target <= 0.10.
- grade_during_training_ratio: grade key -> next document in headless Chromium on the app's Grade
  page while a bi-encoder run (launched from the Train page, same server process) is training,
  over the same latency idle. Target <= 2.
- bf16_embed_speedup, bf16_ndcg_delta: the demo corpus embedded by Flywheel in bf16 autocast
  (`Embedder.encode_documents`) over raw float32 `model.encode`, and nDCG@10 of the eval queries
  minus float32's (bench/inference.py). Target >= 1.5 at >= -0.005 where the CPU has native bf16.
- onnx_speedup, onnx_ndcg_delta (and onnx_int8_*): the same for the transformer on ONNX Runtime,
  float32 (and dynamic int8); null without the [onnx] extra.

The machine this runs on may be shared: each ratio compares two things timed in this run.
The last stdout line is JSON with the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

from core.settings import Settings
from core.storage.demo import load_demo
from core.storage.filters import Not
from core.storage.store import Store
from core.training.precision import trainer_precision


def demo_workspace(tmp: Path, name: str) -> tuple[Store, Settings]:
    settings = Settings(workspace=str(tmp / name))
    store = Store(settings.db_uri)
    load_demo(store)
    return store, settings


def best(times: list[float]) -> float:
    return min(times)


# -- corpus embedding -------------------------------------------------------------------------
def embed_ratio(store: Store, repeats: int = 2, limit: int = 0) -> dict:
    from core.search.models import Embedder, document_text
    from core.search.retrieval import ensure_corpus_embeddings

    embedder = Embedder()
    if limit:  # the same texts on both sides: keep only the first `limit` documents in the workspace
        keep = store.read("documents", columns=["doc_id"], limit=limit)["doc_id"]
        store.delete("documents", {"doc_id": Not(keep)})
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    texts = [document_text(t, x) for t, x in zip(docs["title"], docs["text"])]
    embedder.model.encode(texts[:64], batch_size=64)  # warm-up
    raw, flywheel = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        raw.append(time.perf_counter() - start)
        store.db.drop_table(store.embeddings_name(embedder.key), ignore_missing=True)
        start = time.perf_counter()
        embedded = ensure_corpus_embeddings(store, embedder)
        flywheel.append(time.perf_counter() - start)
        assert embedded == len(texts), (embedded, len(texts))
    result = {"docs": len(texts), "raw_s": round(best(raw), 2), "flywheel_s": round(best(flywheel), 2),
              "raw_docs_per_s": round(len(texts) / best(raw), 1), "flywheel_docs_per_s": round(len(texts) / best(flywheel), 1)}
    result["embed_ratio"] = round(best(raw) / best(flywheel), 3)
    print("embed:", json.dumps(result), flush=True)
    return result


# -- re-evaluation ----------------------------------------------------------------------------
def reeval_ratio(store: Store, settings: Settings) -> dict:
    from core.evaluation import metrics
    from core.labeling.labels import graded_qrels
    from core.search.models import Embedder

    embedder = Embedder()
    store.db.drop_table(store.embeddings_name(embedder.key), ignore_missing=True)
    ids = metrics.eval_query_ids(store)
    qrels = graded_qrels(store, ids)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        rankings = metrics.rank_with_model(store, embedder, ids)
        metrics.compute(qrels, rankings, settings.relevant_grade)
        times.append(time.perf_counter() - start)
    result = {"queries": len(ids), "first_s": round(times[0], 2), "again_s": round(min(times[1:]), 3)}
    result["reeval_ratio"] = round(min(times[1:]) / times[0], 4)
    print("re-evaluation:", json.dumps(result), flush=True)
    return result


# -- training ---------------------------------------------------------------------------------
def flywheel_run(store: Store, settings: Settings, steps: int, eval_every: int) -> tuple[float, str]:
    from core.training.config import TrainConfig
    from core.training.run import launch

    start = time.perf_counter()
    job = launch(store, settings, TrainConfig(kind="bi-encoder", max_steps=steps, eval_steps=eval_every), background=False)
    elapsed = time.perf_counter() - start
    assert job.status() == "succeeded", job.status()
    return elapsed, job.run_id


def raw_run(store: Store, settings: Settings, steps: int, eval_every: int, out: Path) -> float:
    """What an engineer would write against sentence-transformers, on Flywheel's pairs and settings."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.training_args import BatchSamplers
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import EarlyStoppingCallback

    from core.evaluation import metrics
    from core.labeling.labels import graded_qrels
    from core.search.models import Embedder, document_text
    from core.search.precision import autocast, inference_precision
    from core.training import bi_encoder
    from core.training import data as trainingdata
    from core.training.config import TrainConfig

    # Identical inputs, prepared outside the timing: the pairs Flywheel mines, the eval qrels.
    config = TrainConfig(kind="bi-encoder", max_steps=steps, eval_steps=eval_every).resolved()
    base = Embedder()
    data = trainingdata.build(store, config.positive_grade, config.negatives_per_query, config.validation_fraction, config.seed,
                              miner=base.model, mining_margin=config.mining_margin, relevant_grade=settings.relevant_grade)
    rows = trainingdata.bi_encoder_rows(data, config.negatives_per_query, config.seed)
    ids = metrics.eval_query_ids(store)
    qrels = graded_qrels(store, ids)
    docs = store.read("documents", columns=["doc_id", "title", "text"])
    corpus = {d: document_text(t, x) for d, t, x in zip(docs["doc_id"], docs["title"], docs["text"])}
    frame = store.read("queries", columns=["query_id", "text"])
    queries = dict(zip(frame["query_id"], frame["text"]))
    relevant = {q: {d for d, g in docs.items() if g >= settings.relevant_grade} for q, docs in qrels.items()}
    relevant = {q: d for q, d in relevant.items() if d}
    val_relevant = {q: {d for d, g in docs.items() if g >= 1} for q, docs in data.validation.items()}
    val_corpus = bi_encoder.validation_corpus(data, config.seed)
    del base

    start = time.perf_counter()
    model = SentenceTransformer(Embedder().path)

    def evaluate(name: str) -> dict:
        evaluator = InformationRetrievalEvaluator({q: queries[q] for q in relevant}, corpus, relevant, name=name, write_csv=False,
                                                  batch_size=64, ndcg_at_k=[10], mrr_at_k=[10], accuracy_at_k=[5],
                                                  precision_recall_at_k=[5, 10], map_at_k=[10])
        with autocast(model, inference_precision()):  # Flywheel's before/after embed in the inference precision too
            return evaluator(model)

    evaluate("before")
    train = Dataset.from_dict(rows)
    validation = InformationRetrievalEvaluator({q: data.query_text[q] for q in data.validation}, val_corpus, val_relevant, name="val",
                                               ndcg_at_k=[10], mrr_at_k=[10], accuracy_at_k=[5], precision_recall_at_k=[5],
                                               map_at_k=[10], write_csv=False, batch_size=64)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=config.epochs, max_steps=steps, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=0.1, batch_sampler=BatchSamplers.BATCH_SAMPLER, eval_strategy="steps",
        eval_steps=eval_every, save_strategy="steps", save_steps=eval_every, save_total_limit=2, save_only_model=True,
        load_best_model_at_end=True, metric_for_best_model="eval_val_cosine_ndcg@10", greater_is_better=True, logging_steps=1,
        report_to="none", disable_tqdm=True, seed=config.seed, **trainer_precision(config.precision),  # the same precision as Flywheel's run
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=MultipleNegativesRankingLoss(model),
                                         evaluator=validation, callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)])
    trainer.train()
    model.save(str(out / "model"))
    evaluate("after")
    return time.perf_counter() - start


def train_ratio(tmp: Path, steps: int, eval_every: int) -> dict:
    store, settings = demo_workspace(tmp, "train-raw")
    raw = raw_run(store, settings, steps, eval_every, tmp / "raw-model")
    print(f"raw SentenceTransformerTrainer script: {raw:.1f} s", flush=True)
    store, settings = demo_workspace(tmp, "train-flywheel")
    flywheel, run_id = flywheel_run(store, settings, steps, eval_every)
    print(f"flywheel run {run_id}: {flywheel:.1f} s", flush=True)
    result = {"steps": steps, "eval_steps": eval_every, "raw_s": round(raw, 1), "flywheel_s": round(flywheel, 1),
              "train_ratio": round(flywheel / raw, 3)}
    print("train:", json.dumps(result), flush=True)
    return result


# -- grading while a run trains ----------------------------------------------------------------
def press_times(page, presses: int) -> list[float]:
    from tests.test_grade_browser import current_doc, wait_idle

    times = []
    for n in range(presses):
        before = current_doc(page)
        start = time.perf_counter()
        page.keyboard.press(str(n % 6))
        page.wait_for_function(
            "prev => { const e = document.querySelector('.st-key-g_document code'); return e && e.innerText !== prev; }",
            arg=before, polling="raf", timeout=120_000)
        times.append(time.perf_counter() - start)
        wait_idle(page, 120_000)
    return times


def grade_during_training_ratio(tmp: Path, presses: int, train_threads: int) -> dict:
    from playwright.sync_api import sync_playwright

    from core.search.models import Embedder
    from core.search.retrieval import ensure_corpus_embeddings
    from core.training.jobs import ACTIVE, read_run, request_cancel
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_app
    from tests.test_grade_browser import open_grade_page, wait_idle

    store, settings = demo_workspace(tmp, "grade")
    ensure_corpus_embeddings(store, Embedder())
    store.ensure_fts_index()
    env = {"FLYWHEEL_TRAIN_THREADS": str(train_threads)} if train_threads else {}
    process, url = start_app(settings.workspace, env)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = open_grade_page(browser, url, "bench")
            press_times(page, 3)  # warm-up
            idle = press_times(page, presses)
            train_page = browser.new_page(viewport={"width": 1400, "height": 1000})
            train_page.goto(url + "/train")
            train_page.get_by_role("button", name="Train").click()
            deadline = time.time() + 600
            run_id = None
            while time.time() < deadline:
                runs = store.read("runs", columns=["run_id", "status", "progress"])
                if len(runs):
                    run_id = runs["run_id"].iloc[0]
                    progress = json.loads(runs["progress"].iloc[0] or "{}")
                    if progress.get("phase") == "training" and progress.get("step", 0) >= 1:
                        break
                time.sleep(1)
            else:
                raise RuntimeError("the run did not reach its training phase within 10 minutes")
            train_page.close()
            busy = press_times(page, presses)
            row = read_run(store, run_id)
            assert row["status"] in ACTIVE, "the run ended before the measurement did"
            request_cancel(store, run_id, "bench")
            wait_idle(page)
            browser.close()
            while read_run(store, run_id)["status"] in ACTIVE and time.time() < deadline:
                time.sleep(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    result = {"presses": presses, "train_threads": train_threads or "default (cores - 1)", "cpu_count": os.cpu_count(),
              "idle_median_ms": round(statistics.median(idle) * 1000), "training_median_ms": round(statistics.median(busy) * 1000),
              "training_step_reached": row["progress"].get("step")}
    result["grade_during_training_ratio"] = round(statistics.median(busy) / statistics.median(idle), 2)
    print("grade during training:", json.dumps(result), flush=True)
    return result


# -- inference precision and backend -----------------------------------------------------------
def inference_ratios(store: Store, repeats: int) -> dict:
    from inference import compare

    result = compare("demo", repeats=repeats, variants=["bf16", "onnx", "onnx-int8"], store=store)
    keys = {"bf16": ("bf16_embed_speedup", "bf16_ndcg_delta"), "onnx": ("onnx_speedup", "onnx_ndcg_delta"),
            "onnx-int8": ("onnx_int8_speedup", "onnx_int8_ndcg_delta")}
    out = {}
    for variant, (speedup, delta) in keys.items():
        out[speedup], out[delta] = result.get(variant, {}).get("speedup"), result.get(variant, {}).get("ndcg@10_delta")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="max steps of both training runs")
    parser.add_argument("--eval-steps", type=int, default=5, help="validation every this many steps, in both runs")
    parser.add_argument("--presses", type=int, default=12)
    parser.add_argument("--train-threads", type=int, default=0, help="FLYWHEEL_TRAIN_THREADS for the app server (0 = its default)")
    parser.add_argument("--embed-docs", type=int, default=0, help="embed only this many demo documents (0 = all 373)")
    parser.add_argument("--inference-repeats", type=int, default=2, help="timed passes of each inference variant (best counts)")
    parser.add_argument("--skip", default="", help="comma-separated: embed, reeval, train, grade, inference")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    tmp = Path(tempfile.mkdtemp(prefix="raw-ratio-"))
    print(f"load: {os.getloadavg()}, cpus: {os.cpu_count()}, workspace: {tmp}", flush=True)
    ratios: dict[str, float | None] = dict.fromkeys(("train_ratio", "embed_ratio", "reeval_ratio", "grade_during_training_ratio",
                                                     "bf16_embed_speedup", "bf16_ndcg_delta", "onnx_speedup", "onnx_ndcg_delta",
                                                     "onnx_int8_speedup", "onnx_int8_ndcg_delta"))
    store, settings = demo_workspace(tmp, "embed")
    if "embed" not in skip:
        ratios["embed_ratio"] = embed_ratio(demo_workspace(tmp, "embed-only")[0], limit=args.embed_docs)["embed_ratio"]
    if "reeval" not in skip:
        ratios["reeval_ratio"] = reeval_ratio(store, settings)["reeval_ratio"]
    if "train" not in skip:
        ratios["train_ratio"] = train_ratio(tmp, args.steps, args.eval_steps)["train_ratio"]
    if "inference" not in skip:
        ratios |= inference_ratios(demo_workspace(tmp, "inference")[0], args.inference_repeats)
    if "grade" not in skip:
        ratios["grade_during_training_ratio"] = grade_during_training_ratio(tmp, args.presses, args.train_threads)["grade_during_training_ratio"]
    print(f"load after: {os.getloadavg()}", flush=True)
    print(json.dumps(ratios))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
