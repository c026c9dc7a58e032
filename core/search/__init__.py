"""Search: models (loading, embedding cache), precision (bf16 autocast where the hardware has it,
for every encode and predict), retrieval (vector, full-text, hybrid), mining (negatives from the
retriever's ranking, over the stored corpus vectors), ray_embed (corpus embedding on a Ray cluster;
needs the [ray] extra) and onnx (a model's transformer on ONNX Runtime; needs the [onnx] extra).
"""

__all__ = ["mining", "models", "precision", "retrieval", "ray_embed", "onnx"]
