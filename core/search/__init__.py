"""Search: models (loading, embedding cache) and retrieval (vector, full-text, hybrid).
"""

__all__ = ["models", "retrieval"]
