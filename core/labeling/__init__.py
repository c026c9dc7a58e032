"""Labeling: every step where people (or an LLM) say what is relevant.

- labels: every label rule, once (consensus, positives, negatives, grade meanings).
- llm, generation: synthetic queries; review: approve/edit/reject.
- grading, judge: graded candidates and pre-grade suggestions.
- agreement: inter-reviewer statistics; hardnegatives: mined candidates.
- logs, log_format: production interaction logs as queries, suggestions and hard-negative candidates.
- fewshot: curated few-shot sets of approved queries.
- export: BEIR, triplets, HF, Cohere, few-shot files.
- text: highlighting and stop words.
"""

__all__ = ["labels", "llm", "generation", "review", "grading", "judge", "agreement", "hardnegatives", "logs", "log_format", "fewshot", "export", "text"]
