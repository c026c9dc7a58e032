"""Search: models (loading, embedding cache), retrieval (vector, full-text, hybrid) and mining
(negatives from the retriever's ranking, over the stored corpus vectors).
"""

__all__ = ["mining", "models", "retrieval"]
