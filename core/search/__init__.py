"""Search: models (loading, embedding cache), retrieval (vector, full-text, hybrid) and
ray_embed (corpus embedding on a Ray cluster; needs the [ray] extra).
"""

__all__ = ["models", "retrieval", "ray_embed"]
