"""Training: config (TrainConfig), data (pairs and negatives from labels), run (a run end to
end), jobs (background runs, progress, cancel), callbacks (Trainer -> progress row), and one
module per kind: bi_encoder, cross_encoder, adapter.
"""

__all__ = ["config", "data", "run", "jobs", "callbacks", "bi_encoder", "cross_encoder", "adapter"]
