"""A tiny random BERT sentence-transformer (hidden 32, 2 layers) so training tests take seconds."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.settings import default_model_path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def build_tiny_model(folder: Path) -> str:
    """Save a randomly initialised BERT with mean pooling, using the bundled MiniLM tokenizer."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    source = Path(default_model_path())
    backbone = folder / "backbone"
    backbone.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy(source / name, backbone / name)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_word_embedding_dimension(), "mean"), Normalize()], device="cpu")
    out = folder / "tiny-st"
    model.save(str(out))
    return str(out)
