"""Evaluation: metrics (pytrec_eval over stored rankings), stats (bootstrap and randomization
tests), results (frames for the Results page), charts (plotly), report (one-page HTML),
rerank_api (Cohere rerank as a comparison row).
"""

__all__ = ["metrics", "stats", "results", "charts", "report", "rerank_api"]
