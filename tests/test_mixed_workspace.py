"""A workspace that mixes the demo, a test-only BEIR import and synthetic queries (issue 24)."""

from __future__ import annotations

from core.storage import splits
from core.storage.schemas import Split
from tests.mixed_seed import BEIR_QUERIES, build_mixed


def test_the_split_draws_every_origin_of_a_mixed_workspace(store, tmp_path):
    """Imported queries with no source document read back as NaN beside the synthetic query's id:
    the strata sorted a float among strings (TypeError in _assign)."""
    synthetic = build_mixed(store, tmp_path)
    frame = store.read("queries", columns=["query_id", "source_doc_id", "split", "status"])
    unsplit = set(frame[(frame["split"] == Split.none.value) & (frame["status"] == "approved")]["query_id"])
    assert unsplit == {synthetic, *(q for q, _, _ in BEIR_QUERIES)}
    counts = splits.assign_splits(store, seed=3)
    assert counts[Split.none.value] == 0
    sides = dict(zip(*store.read("queries", columns=["query_id", "split"]).to_dict("list").values()))
    assert all(sides[q] in (Split.train.value, Split.eval.value) for q in unsplit)
    assert splits.leaked_texts(store) == set()
    again = splits.assign_splits(store, seed=3, reset=True)
    assert again == splits.split_counts(store) and again[Split.none.value] == 0
