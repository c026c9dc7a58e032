"""Training data from labels: flagged hard negatives first, then low-graded, then mined; no eval leakage."""

from __future__ import annotations

import pytest

from core.search import mining
from core.storage.schemas import Judgment, Query, now
from core.training import data as trainingdata
from core.training.config import TrainConfig
from tests.conftest import SMALL_DOCS
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def _judge(store, rows):
    stamp = now()
    store.add("judgments", [Judgment(query_id=q, doc_id=d, reviewer=r, grade=g, hard_negative=h, created_at=stamp, updated_at=stamp)
                            for q, d, r, g, h in rows])


def test_flagged_hard_negatives_come_first(small_store):
    # q1: d2 flagged (0), d3 graded 1. Add d4 graded 0 unflagged and d5 flagged with grade 1 by a reviewer.
    _judge(small_store, [("q1", "d4", "ann", 0, False), ("q1", "d5", "ann", 1, True)])
    data = trainingdata.build(small_store, negatives_per_query=3, validation_fraction=0)
    assert data.negatives["q1"][:2] == ["d2", "d5"]  # both flagged, before any low-graded one
    assert data.negatives["q1"][2] == "d4"  # then the lowest grade first
    assert data.negative_source[("q1", "d2")] == "flagged" and data.negative_source[("q1", "d4")] == "low-graded"
    assert data.positives == {"q1": ["d1"], "q2": ["d4"], "q3": ["d7"], "q4": ["d8"]}
    counts = data.counts()
    assert counts["train_pairs"] == 4 and counts["eval_queries"] == 4 and counts["hard_negatives"] == 4
    assert any("Only 4 training pairs" in w for w in data.warnings)


def test_mined_negatives_fill_up_and_skip_positives(small_store, embedder):
    data = trainingdata.build(small_store, negatives_per_query=4, validation_fraction=0, miner=embedder.model)
    for q, negs in data.negatives.items():
        assert len(negs) == 4 and not set(negs) & set(data.positives[q])
        sources = [data.negative_source[(q, d)] for d in negs]
        assert sources == sorted(sources, key=["flagged", "low-graded", "mined"].index)  # most valuable first
    assert data.counts()["mined"] > 0


def test_mining_skips_the_ten_closest_unlabelled_documents(embedder):
    """Those are too often relevant documents nobody graded; negatives come from the ranks after them."""
    import numpy as np

    plans = ["Bronze", "Silver", "Gold", "Platinum", "Basic", "Plus", "Premier", "Select", "Value", "Choice"]
    doc_text = {f"d{i}": f"{plans[i % 10]} plan {2020 + i // 10}: the deductible and copays for office visits"
                for i in range(60)} | {f"x{i}": f"How to update your mailing address, form {i}" for i in range(20)}
    query = "gold plan 2023 deductible"
    mined = {d for _, d in mining.training_negatives(embedder.model, {"q": query}, doc_text, {"q": ["d32"]}, 3, 0.05)}
    ids = [d for d in doc_text if d != "d32"]
    vectors = embedder.model.encode([query, doc_text["d32"], *(doc_text[d] for d in ids)], normalize_embeddings=True)
    scores = vectors[2:] @ vectors[0]
    positive = float(vectors[1] @ vectors[0])
    allowed = (scores <= mining.MINE_MAX_SCORE) & (scores <= positive - abs(positive) * 0.05)
    closest = {ids[i] for i in np.argsort(-np.where(allowed, scores, -np.inf))[: mining.MINE_SKIP]}
    assert len(mined) >= 3 and not mined & closest


def test_a_mining_window_takes_negatives_from_the_top_of_the_ranking(embedder):
    """The re-ranker's window: it only ever re-ranks the retriever's top-k, so its negatives come from there.
    Four other plans' deductible documents score above the positive d0, so the margin drops them: the
    window must not slide down to the 9th document to make up for them (it did with sentence-transformers
    6.3, which reads one candidate more than range_max + positives; fp32 on every CPU, not float noise)."""
    import numpy as np

    topics = ["deductible for office visits", "copay for specialists", "pharmacy tiers", "dental cleanings",
              "vision exams", "emergency room costs", "mailing address changes", "enrollment deadlines"]
    plans = ["Bronze", "Silver", "Gold", "Platinum", "Basic"]
    doc_text = {f"d{i}": f"The {topics[i % 8]} of the {plans[i // 8]} plan" for i in range(40)}
    query = "what is the deductible for an office visit"
    mined = {d for _, d in mining.training_negatives(embedder.model, {"q": query}, doc_text, {"q": ["d0"]}, 3, 0.0, window=(0, 8))}
    ids = [d for d in doc_text if d != "d0"]
    vectors = embedder.model.encode([query, *(doc_text[d] for d in ids)], normalize_embeddings=True)
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores)
    assert scores[order[7]] - scores[order[8]] > 0.005  # 0.226 against 0.212: no float noise can swap the 8th and 9th
    top = {ids[i] for i in order[:8]}
    assert len(mined) >= 3 and mined <= top


def test_random_negatives_are_never_graded_documents(small_store):
    data = trainingdata.build(small_store, negatives_per_query=2, validation_fraction=0)
    data.negatives.clear()  # as if nothing was flagged, low-graded or mined
    rows = trainingdata.bi_encoder_rows(data, 2, seed=0)
    graded_text = {data.doc_text[d] for d, g in data.grades["q3"].items() if g > 0}  # q3: d7 (5), d6 (1)
    anchors = [i for i, a in enumerate(rows["anchor"]) if a == data.query_text["q3"]]
    assert anchors and not {rows[f"negative_{n}"][i] for i in anchors for n in (1, 2)} & graded_text


def test_eval_texts_never_train_and_synthetic_source_is_positive(small_store):
    stamp = now()
    small_store.add("queries", [
        Query(query_id="leak", text="What is an HSA?", split="train", created_at=stamp),  # same text as eval q5
        Query(query_id="syn", text="newborn coverage deadline", origin="synthetic", source_doc_id="d8", split="train", created_at=stamp),
        Query(query_id="rej", text="rejected one", origin="synthetic", source_doc_id="d8", split="train", status="rejected", created_at=stamp),
    ])
    _judge(small_store, [("leak", "d10", "ann", 5, False)])
    data = trainingdata.build(small_store, validation_fraction=0)
    assert "leak" not in data.positives and "rej" not in data.positives
    assert data.positives["syn"] == ["d8"]


def test_binary_qrels_are_not_negatives_and_warn(store):
    stamp = now()
    store.add("queries", [Query(query_id=f"t{i}", text=f"train {i}", split="train", created_at=stamp) for i in range(3)]
              + [Query(query_id="e", text="eval", split="eval", created_at=stamp)])
    _judge(store, [(f"t{i}", f"d{i}", "import:cisi", 1, False) for i in range(3)])
    data = trainingdata.build(store)
    assert data.pairs == [] and data.negatives == {}
    assert any("positive grade" in w for w in data.warnings)
    assert trainingdata.build(store, positive_grade=1).counts()["train_pairs"] == 0  # no documents in this store


def test_rows_for_each_trainer(small_store):
    data = trainingdata.build(small_store, negatives_per_query=2, validation_fraction=0)
    rows = trainingdata.bi_encoder_rows(data, 2)
    assert list(rows) == ["anchor", "positive", "negative_1", "negative_2"] and len(rows["anchor"]) == 4
    assert all(n != p for n, p in zip(rows["negative_1"], rows["positive"]))
    cross = trainingdata.cross_encoder_rows(data)
    labels = dict(zip(zip(cross["query"], cross["document"]), cross["label"]))
    assert labels[(data.query_text["q1"], data.doc_text["d1"])] == 1.0
    assert labels[(data.query_text["q1"], data.doc_text["d3"])] == 0.2


def test_a_grade_the_eval_counts_as_relevant_is_never_a_negative(small_store):
    # q1's d3 is graded 1: relevant under the default TREC threshold, so not a low-graded negative.
    default = trainingdata.build(small_store, negatives_per_query=5, validation_fraction=0)
    assert "d3" not in default.negatives["q1"]
    strict = trainingdata.build(small_store, negatives_per_query=5, validation_fraction=0, relevant_grade=2)
    assert strict.negative_source[("q1", "d3")] == "low-graded"


def test_mining_reuses_the_stored_corpus_embeddings(small_store, embedder, monkeypatch):
    from core.search.retrieval import corpus_matrix

    doc_ids, matrix = corpus_matrix(small_store, embedder)
    fresh = trainingdata.build(small_store, negatives_per_query=4, validation_fraction=0, miner=embedder.model)
    embedded: list[int] = []
    original = embedder.model.encode_document
    monkeypatch.setattr(embedder.model, "encode_document", lambda texts, **kw: embedded.append(len(texts)) or original(texts, **kw))
    cached = trainingdata.build(small_store, negatives_per_query=4, validation_fraction=0, miner=embedder.model,
                                corpus_vectors=dict(zip(doc_ids, matrix)))
    assert embedded == []  # the corpus was not embedded a second time
    assert cached.negatives == fresh.negatives and cached.counts()["mined"] > 0


def test_listwise_rows_keep_grades_and_leave_unjudged_documents_out(small_store):
    _judge(small_store, [("q1", "d4", "ann", 4, False)])
    data = trainingdata.build(small_store, negatives_per_query=2, validation_fraction=0)
    lists = trainingdata.cross_encoder_lists(data)
    assert len(lists["query"]) == len(lists["docs"]) == len(lists["labels"])
    row = lists["query"].index(data.query_text["q1"])
    labels = dict(zip(lists["docs"][row], lists["labels"][row]))
    wanted = {data.doc_text[d]: float(g) for d, g in data.grades["q1"].items()} | {data.doc_text[d]: 0.0 for d in data.negatives["q1"]}
    assert labels == wanted  # the grades themselves (a 4 stays 4), negatives 0, nothing else
    assert labels[data.doc_text["d4"]] == 4.0
    listed = set(data.grades["q1"]) | set(data.negatives["q1"]) | set(data.positives["q1"])
    assert all(data.doc_text[d] not in labels for d in set(data.doc_text) - listed)  # unjudged, unmined: left out


def test_listwise_rows_cap_long_lists_and_skip_single_grade_ones(small_store):
    data = trainingdata.build(small_store, negatives_per_query=2, validation_fraction=0)
    capped = trainingdata.cross_encoder_lists(data, max_docs=2)
    assert all(len(d) <= 2 and len(set(g)) == 2 for d, g in zip(capped["docs"], capped["labels"]))
    data.negatives = {}
    data.grades = {q: {d: 5 for d in data.positives[q]} for q in data.positives}
    assert trainingdata.cross_encoder_lists(data)["query"] == []  # one grade only: nothing to order


def test_a_reranker_query_with_many_positives_gets_as_many_negatives_from_past_them(small_store, embedder):
    """CISI lists ~26 relevant documents a query: they fill the retriever's top k, and 3 negatives
    against 26 positives taught the head that everything is relevant. The re-ranker's data keeps the
    classes balanced per query (up to the depth it re-ranks) and mines past the judged positives."""
    stamp = now()
    small_store.upsert("judgments", [Judgment(query_id="q1", doc_id=d, reviewer="import:small", grade=5, hard_negative=False,
                                              created_at=stamp, updated_at=stamp) for d in ("d4", "d5", "d6", "d7", "d8")])
    data = trainingdata.build(small_store, negatives_per_query=1, validation_fraction=0, miner=embedder.model, rerank_depth=4)
    assert len(data.positives["q1"]) == 6
    assert len(data.negatives["q1"]) == 4 and not set(data.negatives["q1"]) & set(data.positives["q1"])
    assert [len(data.negatives[q]) for q in ("q2", "q3", "q4")] == [1, 1, 1]  # one positive: the configured count
    assert trainingdata.reranker_negatives(26, 3, 20) == 20 and trainingdata.reranker_negatives(1, 3, 20) == 3
    assert trainingdata.reranker_negatives(5, 0, 20) == 0  # negatives switched off stay off


def test_the_margin_is_measured_against_the_positive_the_retriever_scores_highest(embedder):
    """Binary qrels list positives in no order of merit: measured against a weak one, every close
    candidate looked "too close to the positive" and most CISI queries got no negative."""
    import numpy as np

    doc_text = {"far": "Annual report of the library committee, 1962", "near": "Indexing and retrieval of scientific documents",
                "other": "Retrieval systems for documents"}
    queries = {"q": "document retrieval and indexing"}
    vectors = dict(zip(doc_text, embedder.model.encode(list(doc_text.values()), normalize_embeddings=True)))
    assert mining.closest_positive(embedder.model, queries, {"q": ["far", "near"]}, vectors) == {"q": ["near"]}
    assert mining.closest_positive(embedder.model, queries, {"q": ["far", "near"]}, None) == {"q": ["far"]}  # no vectors: first listed
    scores = {d: float(v @ embedder.model.encode_query(["document retrieval and indexing"], normalize_embeddings=True)[0]) for d, v in vectors.items()}
    assert scores["near"] > scores["far"] and np.isfinite(list(scores.values())).all()


class _Evaluator(Exception):
    """Raised by a stand-in evaluator with what the trainer gave it, before any training step."""


@pytest.mark.parametrize("kind", ["bi-encoder", "cross-encoder"])
def test_validation_counts_as_relevant_what_the_eval_does(small_store, tmp_path, tiny, monkeypatch, kind):
    """With FLYWHEEL_RELEVANT_GRADE=2 the eval does not count a grade 1; early stopping must not either
    (both trainers counted every grade >= 1)."""
    from sentence_transformers.cross_encoder import evaluation as cross_evaluation
    from sentence_transformers.sentence_transformer import evaluation as bi_evaluation

    from core.search.models import Embedder
    from core.training.trainers import TrainingInputs, train

    stamp = now()
    small_store.add("queries", [Query(query_id=f"v{i}", text=f"{SMALL_DOCS[i][1]}?", split="train", created_at=stamp) for i in range(8)])
    _judge(small_store, [(f"v{i}", SMALL_DOCS[i][0], "ann", 5, False) for i in range(8)]
           + [(f"v{i}", SMALL_DOCS[i + 1][0], "ann", 1, False) for i in range(8)])
    data = trainingdata.build(small_store, validation_fraction=0.5, relevant_grade=2)
    marginal = {(q, d) for q, docs in data.validation.items() for d, g in docs.items() if g == 1}
    assert len(data.validation) >= 5 and marginal

    def evaluator(*args, **kwargs):
        raise _Evaluator(kwargs.get("relevant_docs") or args[0])

    config = TrainConfig(kind=kind, base_model=tiny, batch_size=4).resolved()
    with pytest.raises(_Evaluator) as caught:
        if kind == "bi-encoder":
            monkeypatch.setattr(bi_evaluation, "InformationRetrievalEvaluator", evaluator)
            train(TrainingInputs(small_store, config, data, Embedder(tiny), tmp_path / "model", None))
        else:
            monkeypatch.setattr(cross_evaluation, "CrossEncoderRerankingEvaluator", evaluator)
            train(TrainingInputs(small_store, config, data, Embedder(tiny), tmp_path / "model", None))
    given = caught.value.args[0]
    if kind == "bi-encoder":
        relevant = {(q, d) for q, docs in given.items() for d in docs}
    else:
        query_of, doc_of = {t: q for q, t in data.query_text.items()}, {t: d for d, t in data.doc_text.items()}
        relevant = {(query_of[s["query"]], doc_of[t]) for s in given for t in s["positive"]}
    assert relevant and not relevant & marginal
    assert relevant == {(q, d) for q, docs in data.validation.items() for d, g in docs.items() if g >= 2}
