"""Search: models (loading, embedding cache), retrieval (vector, full-text, hybrid), mining
(negatives from the retriever's ranking, over the stored corpus vectors) and ray_embed (corpus
embedding on a Ray cluster; needs the [ray] extra).
"""

__all__ = ["mining", "models", "retrieval", "ray_embed"]
