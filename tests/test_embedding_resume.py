"""Corpus embedding is written as it goes: one that stops part-way keeps what it wrote, and the next
call embeds only the rest (a killed `flywheel embed` on 100,000 documents does not start over)."""

import pytest

from core.search import retrieval
from core.search.models import Embedder
from tests.tiny_model import build_tiny_model


class Stopped(Exception):
    pass


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_embedding_that_stops_part_way_keeps_what_it_wrote(small_store, tiny, monkeypatch):
    monkeypatch.setattr(retrieval, "WRITE_ROWS", 5, raising=False)  # raising=False: the old code had none, and wrote once at the end
    embedder = Embedder(tiny)
    seen = []

    def progress(done, total, *extra):
        seen.append((done, total))
        if done > 5:  # within the second part: the first one is written by now
            raise Stopped

    with pytest.raises(Stopped):
        retrieval.ensure_corpus_embeddings(small_store, embedder, progress)
    assert small_store.count(small_store.embeddings_name(embedder.key)) == 5
    assert seen[0] == (0, 12) and all(total == 12 for _, total in seen)  # one count over the whole corpus
    assert retrieval.ensure_corpus_embeddings(small_store, Embedder(tiny)) == 7  # only the rest
    assert small_store.count(small_store.embeddings_name(embedder.key)) == 12
