"""Training: config (TrainConfig), data (pairs and negatives from labels), run (a run end to
end), jobs (background runs, progress, cancel), callbacks (Trainer -> progress row), and one
module per kind: bi_encoder, cross_encoder (with warm_start, its distillation from the
retriever), adapter; curve (learning-curve jobs), curvefit (fit, projection, backtest) and
guidance (what to label next); ray_train (a bi-encoder run on Ray Train; needs the [ray] extra).
"""

__all__ = ["config", "data", "run", "jobs", "callbacks", "bi_encoder", "cross_encoder", "warm_start", "adapter", "curve", "curvefit",
           "guidance", "ray_train"]
