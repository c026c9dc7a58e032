"""Cohere rerank comparison row, through the real cohere client against a 127.0.0.1 stub of /v2/rerank."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import InputError, ProviderError
from core.evaluation import metrics, rerank_api
from core.labeling import labels
from core.settings import Settings
from tests.http_stub import JsonHandler, serve


class CohereStub(JsonHandler):
    """Scores each document by words shared with the query, like a (very) small reranker."""

    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.read_json()
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if body["model"] == "missing-model":
            self.reply(404, {"message": "model 'missing-model' not found"})
            return
        words = set(body["query"].lower().split())
        scores = [len(words & set(doc.lower().split())) / (1 + len(words)) for doc in body["documents"]]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[: body.get("top_n") or len(scores)]
        self.reply(200, {"id": "stub", "results": [{"index": i, "relevance_score": scores[i]} for i in order],
                          "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}})


@pytest.fixture
def cohere_url():
    CohereStub.requests = []
    with serve(CohereStub) as url:
        yield url


def test_cohere_stage_reranks_the_before_ranking(small_store, workspace, cohere_url):
    settings = replace(workspace, cohere_api_key="test-key", cohere_base_url=cohere_url)
    ids = metrics.eval_query_ids(small_store)
    qrels = labels.graded_qrels(small_store, ids)
    docs = sorted(small_store.read("documents", columns=["doc_id"])["doc_id"])
    rankings = {q: [(d, 1.0 - i / 100) for i, d in enumerate(docs)] for q in ids}  # an uninformed order
    means = rerank_api.cohere_stage(small_store, settings, "r1", qrels, rankings, model="rerank-v3.5")
    assert small_store.count("metrics", "run_id = 'r1' AND stage = 'cohere-rerank'") == 25
    assert means["mrr@10"] > metrics.compute(qrels, rankings)[0]["mrr@10"]
    sent = CohereStub.requests[0]
    assert sent["path"] == "/v2/rerank" and sent["auth"] == "Bearer test-key" and len(sent["documents"]) == len(docs)


def test_cohere_errors_are_clear(small_store, workspace, cohere_url):
    with pytest.raises(InputError, match="COHERE_API_KEY"):
        rerank_api.client(Settings(workspace=workspace.workspace))
    settings = replace(workspace, cohere_api_key="k", cohere_base_url=cohere_url)
    with pytest.raises(ProviderError, match="missing-model"):
        rerank_api.rerank_rankings(small_store, settings, {"q5": [("d10", 1.0)]}, model="missing-model")
