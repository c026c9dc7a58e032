from __future__ import annotations

import json

import pytest

from core.errors import ProviderError
from core.labeling import judge
from core.labeling.llm import make_client
from core.settings import Settings
from core.storage.schemas import Run, now
from tests.http_stub import JsonHandler, serve


class OpenAIStub(JsonHandler):
    """Speaks POST /v1/chat/completions the way OpenAI answers a tool call."""

    answers: list = []
    requests: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.read_json()
        type(self).requests.append(body)
        if type(self).status != 200:
            self.reply(type(self).status, {"error": {"message": "bad key", "type": "invalid_request_error"}})
            return
        prompt = json.dumps(body["messages"])  # re-asks append messages: keep answering the same
        grade = 5 if "$2,000" in prompt else 9 if "broken" in prompt else 1
        arguments = json.dumps({"grade": grade, "reason": f"stub says {grade}"})
        tool = body["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None,
                   "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": tool, "arguments": arguments}}]}
        self.reply(200, {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


@pytest.fixture
def stub():
    OpenAIStub.requests, OpenAIStub.status = [], 200
    with serve(OpenAIStub) as url:
        yield url + "/v1"


def client(workspace, url):
    return make_client(Settings(workspace=workspace.workspace, llm="openai/judge-mini", llm_base_url=url, llm_timeout_s=5), http_retries=0)


def test_llm_judge_grades_are_stored_as_suggestions_not_judgments(small_store, workspace, stub):
    before = small_store.count("judgments")
    found = judge.llm_suggest(small_store, client(workspace, stub), "q1", ["d1", "d4"])
    assert list(found["grade"]) == [5.0, 1.0] and found["reason"].iloc[0] == "stub says 5"
    stored = judge.suggestions_for(small_store, "q1").set_index("doc_id")
    assert stored.loc["d1", "agent"] == "llm:openai/judge-mini@judge-v1" and stored.loc["d4", "grade"] == 1.0
    assert small_store.count("judgments") == before
    sent = OpenAIStub.requests[0]
    assert sent["model"] == "judge-mini" and "silver ppo deductible 2025" in sent["messages"][-1]["content"]
    assert "5: exactly answers" in sent["messages"][0]["content"]


def test_llm_judge_out_of_range_grade_is_a_provider_error(small_store, workspace, stub):
    small_store.update_where("documents", "doc_id = 'd4'", {"text": "broken document"})
    with pytest.raises(ProviderError, match="does not match the expected format"):
        judge.llm_suggest(small_store, client(workspace, stub), "q2", ["d4"])
    assert judge.suggestions_for(small_store, "q2").empty


def test_llm_judge_rejected_key_says_so(small_store, workspace, stub):
    OpenAIStub.status = 401
    with pytest.raises(ProviderError, match="rejected the API key"):
        judge.llm_suggest(small_store, client(workspace, stub), "q1", ["d1"])


def test_without_a_cross_encoder_the_retriever_score_suggests(small_store):
    assert judge.latest_cross_encoder(small_store) is None
    found = judge.offline_suggest(small_store, "q1", [{"doc_id": "d1", "score": 0.8}, {"doc_id": "d3", "score": 0.4}])
    assert set(found["agent"]) == {"retriever"} and found["grade"].isna().all()
    assert judge.suggestions_for(small_store, "q1").set_index("doc_id").loc["d3", "score"] == pytest.approx(0.4)


def test_latest_succeeded_cross_encoder_suggests_grades(small_store, tmp_path):
    from sentence_transformers import CrossEncoder

    from core.settings import default_model_path

    path = tmp_path / "ce"
    CrossEncoder(default_model_path(), num_labels=1, device="cpu").save(str(path))
    stamp = now()
    small_store.add("runs", [
        Run(run_id="old", kind="cross-encoder", base_model="m", status="succeeded", model_path=str(path), created_at=stamp, finished_at=stamp),
        Run(run_id="new", kind="cross-encoder", base_model="m", status="succeeded", model_path=str(path), created_at=stamp,
            finished_at=stamp.replace(year=stamp.year + 1)),
        Run(run_id="failed", kind="cross-encoder", base_model="m", status="failed", model_path=str(path), created_at=stamp,
            finished_at=stamp.replace(year=stamp.year + 2)),
        Run(run_id="gone", kind="cross-encoder", base_model="m", status="succeeded", model_path=str(tmp_path / "missing"),
            created_at=stamp, finished_at=stamp.replace(year=stamp.year + 3)),
    ])
    run = judge.latest_cross_encoder(small_store)
    assert run["run_id"] == "new"
    model = judge.load_cross_encoder(run["model_path"])
    found = judge.offline_suggest(small_store, "q1", [{"doc_id": "d1", "score": 0.8}, {"doc_id": "d3", "score": 0.4}], model, run["run_id"])
    assert set(found["agent"]) == {"cross-encoder:new"}
    assert found["grade"].between(0, 5).all() and found["score"].between(0, 1).all()
    assert (found["grade"] == (5 * found["score"]).round()).all()
