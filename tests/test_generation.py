"""Generation through instructor against real HTTP stubs on 127.0.0.1 (OpenAI and Cohere APIs), and the offline generator."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.commands import main as cli
from core.errors import InputError, ProviderError
from core.labeling import generation
from core.labeling.generation import OfflineGenerator, Selection, Style, generate, make_generator, select_documents
from core.labeling.llm import make_client, parse_provider
from core.labeling.text import content_words
from core.storage.schemas import Document, Query, now

OK = {"queries": ["what is the silver ppo deductible", "silver plan deductible amount"]}


class Stub:
    """A provider speaking the OpenAI chat-completions or Cohere v2 chat API; answers follow `script`."""

    def __init__(self):
        self.script: list[tuple[int, object, float]] = []  # (status, payload dict|raw str, delay seconds)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                status, payload, delay = stub.script.pop(0) if stub.script else (200, OK, 0)
                time.sleep(delay)
                out = json.dumps(stub.answer(self.path, body, status, payload)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    if status == 429:
                        self.send_header("retry-after-ms", "5")
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and hung up, as the timeout test wants

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path: str, body: dict, status: int, payload: object) -> dict:
        if status != 200:
            return {"error": {"message": f"stub error {status}", "type": "stub", "code": str(status)}, "message": f"stub error {status}"}
        text = payload if isinstance(payload, str) else json.dumps(payload)
        if path.startswith("/v2/chat"):  # Cohere v2
            return {"id": "c1", "finish_reason": "COMPLETE", "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
                    "usage": {"billed_units": {"input_tokens": 10, "output_tokens": 5}, "tokens": {"input_tokens": 10, "output_tokens": 5}}}
        call = {"id": "call_1", "type": "function", "function": {"name": "GeneratedQueries", "arguments": text}}
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [call]}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.close()


@pytest.fixture
def openai_settings(workspace, stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    return replace(workspace, llm="openai/stub-model", llm_base_url=stub.url + "/v1", llm_timeout_s=0.5)


def docs(store, ids):
    return store.read("documents", columns=["doc_id", "title", "text"]).set_index("doc_id").loc[ids].reset_index()


def stored(store):
    return store.read("queries", where="origin = 'synthetic'")


def test_llm_answer_becomes_pending_queries_with_generator_and_source(small_store, openai_settings, stub):
    gen = make_generator(openai_settings)
    result = generate(small_store, gen, docs(small_store, ["d1", "d4"]), style="keyword", per_doc=2, actor="ann")
    rows = stored(small_store)
    assert len(result.written) == 4 and len(rows) == 4
    assert set(rows["generator"]) == {"openai/stub-model@prompt-v1"}
    assert set(rows["status"]) == {"pending"} and set(rows["split"]) == {"none"}
    assert sorted(rows["source_doc_id"]) == ["d1", "d1", "d4", "d4"]
    request = stub.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "stub-model" and request["body"]["tools"][0]["function"]["name"] == "GeneratedQueries"
    prompt = json.dumps(request["body"]["messages"])
    assert "deductible of $2,000" in prompt and "keyword searches" in prompt and "exactly 2" in prompt
    events = small_store.read("events", where="action = 'generate'")
    assert json.loads(events["detail"].iloc[0])["count"] == 4 and events["actor"].iloc[0] == "ann"


def test_invalid_json_is_retried_then_accepted(small_store, openai_settings, stub):
    stub.script = [(200, '{"queries": [', 0), (200, OK, 0)]
    result = generate(small_store, make_generator(openai_settings), docs(small_store, ["d1"]), per_doc=2)
    assert len(result.written) == 2 and len(stub.requests) == 2
    assert "Invalid JSON" in json.dumps(stub.requests[1]["body"]["messages"])  # instructor re-asked with the error


def test_invalid_output_after_retries_is_a_clear_error_and_stores_nothing(small_store, openai_settings, stub):
    stub.script = [(200, {"queries": []}, 0)] * 3
    with pytest.raises(ProviderError, match="does not match the expected format after 3 attempts"):
        generate(small_store, make_generator(openai_settings), docs(small_store, ["d1"]))
    assert stored(small_store).empty and len(stub.requests) == 3


@pytest.mark.parametrize(
    ("status", "delay", "message", "calls"),
    [(401, 0, "rejected the API key", 1), (429, 0, "rate limiting", 3), (200, 2.0, "did not answer within 0.5 s", 3)],
    ids=["401", "429", "timeout"],
)
def test_provider_failures_give_clear_messages_and_store_nothing(small_store, openai_settings, stub, status, delay, message, calls):
    stub.script = [(status, OK, delay)] * calls
    with pytest.raises(ProviderError, match=message):
        generate(small_store, make_generator(openai_settings), docs(small_store, ["d1", "d2"]))
    assert stored(small_store).empty
    assert len(stub.requests) == calls  # 429 and timeout: the SDK's own retries (2) before giving up


def test_error_midway_keeps_whole_documents_only(small_store, openai_settings, stub):
    stub.script = [(200, OK, 0), (401, None, 0)]
    with pytest.raises(ProviderError):
        generate(small_store, make_generator(openai_settings), docs(small_store, ["d1", "d2"]), per_doc=2)
    rows = stored(small_store)
    assert list(rows["source_doc_id"]) == ["d1", "d1"]
    events = small_store.read("events", where="action = 'generate'")  # the audit trail names what was kept
    assert len(events) == 1 and json.loads(events["detail"].iloc[0])["count"] == 2


def test_approved_and_rejected_queries_become_few_shot_examples(small_store, openai_settings, stub):
    stamp = now()
    small_store.add("queries", [
        Query(query_id="a1", text="fsa limit this year", origin="synthetic", source_doc_id="d11", status="approved", reviewed_at=stamp, created_at=stamp),
        Query(query_id="r1", text="document about things", origin="synthetic", source_doc_id="d12", status="rejected", reviewed_at=stamp, created_at=stamp),
    ])
    generate(small_store, make_generator(openai_settings), docs(small_store, ["d1"]))
    prompt = stub.requests[0]["body"]["messages"][1]["content"]
    assert "fsa limit this year" in prompt and "(for: Flexible spending account (FSA))" in prompt
    assert prompt.index("document about things") > prompt.index("rejected")


def test_cohere_provider_through_a_cohere_v2_stub(small_store, workspace, stub):
    settings = replace(workspace, llm="cohere/command-r", cohere_api_key="co-test", llm_base_url=stub.url, llm_timeout_s=2)
    result = generate(small_store, make_generator(settings), docs(small_store, ["d6"]), per_doc=2)
    assert len(result.written) == 2
    assert set(stored(small_store)["generator"]) == {"cohere/command-r@prompt-v1"}
    request = stub.requests[0]
    assert request["path"] == "/v2/chat" and request["auth"] == "Bearer co-test"
    assert request["body"]["response_format"]["schema"]["title"] == "GeneratedQueries"
    stub.script = [(401, None, 0)]
    with pytest.raises(ProviderError, match="cohere/command-r rejected the API key"):
        generate(small_store, make_generator(settings), docs(small_store, ["d7"]))


def test_offline_generator_makes_plausible_queries_from_the_document(small_store, workspace):
    gen = make_generator(workspace)  # no FLYWHEEL_LLM
    assert gen.name == "offline@v1"
    result = generate(small_store, gen, select_documents(small_store, 10, Selection.random, seed=1), per_doc=2, limit=20)
    rows = stored(small_store).merge(small_store.read("documents"), left_on="source_doc_id", right_on="doc_id", suffixes=("", "_doc"))
    assert len(result.written) == 20 and len(rows) == 20 and set(rows["status"]) == {"pending"}
    for query, title, text in zip(rows["text"], rows["title"], rows["text_doc"], strict=True):
        words = set(content_words(query))
        assert words & set(content_words(title + " " + text)), query
    claim = {"doc_id": "d6", "title": "How to submit a claim", "text": "Submit a claim online within 90 days of the service."}
    assert OfflineGenerator(1).queries(claim, Style.question, 1, generation.Examples()) == ["how do I submit a claim?"]
    keywords = OfflineGenerator(1).queries(claim, Style.keyword, 3, generation.Examples())
    assert len(keywords) == 3 and not any("?" in k for k in keywords)
    hard = OfflineGenerator(1).queries({"doc_id": "d1", "title": "Silver PPO 2025 deductible", "text": SILVER}, Style.hard, 2, generation.Examples())
    assert hard and not any(ch.isdigit() for q in hard for ch in q)  # the year is dropped: several plans fit


SILVER = "The Silver PPO plan for 2025 has a deductible of $2,000 per person."


def test_offline_is_deterministic_and_skips_duplicates(small_store, workspace):
    first = generate(small_store, OfflineGenerator(7), docs(small_store, ["d1", "d2"]), per_doc=2)
    again = generate(small_store, OfflineGenerator(7), docs(small_store, ["d1", "d2"]), per_doc=2)
    assert len(first.written) == 4 and again.written == [] and again.skipped_duplicates == 4


def test_never_queried_documents_come_first(small_store):
    small_store.add("documents", [Document(doc_id=f"new{i}", title=f"New topic {i}", text="Fresh text.") for i in range(3)])
    picked = select_documents(small_store, 3, Selection.unqueried, seed=3)
    assert set(picked["doc_id"]) == {"new0", "new1", "new2"}
    with pytest.raises(InputError, match="expects search text"):
        select_documents(small_store, 3, Selection.search)
    found = select_documents(small_store, 2, Selection.search, search_text="appeal denied claim")
    assert "d7" in set(found["doc_id"])


def test_stop_between_documents(small_store):
    calls = []
    result = generate(small_store, OfflineGenerator(0), docs(small_store, ["d1", "d2", "d3"]),
                      should_stop=lambda: len(calls) >= 1, progress=lambda done, total, phase="", note="": calls.append(done))
    assert result.stopped and result.docs_done == 1 and len(stored(small_store)) == 1


def test_provider_strings_are_checked(workspace, monkeypatch):
    with pytest.raises(InputError, match="provider one of openai, anthropic, cohere, ollama"):
        parse_provider("gpt-4o")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="OPENAI_API_KEY is not set"):
        make_client(replace(workspace, llm="openai/gpt-4o-mini"))
    with pytest.raises(ProviderError, match="COHERE_API_KEY is not set"):
        make_client(replace(workspace, llm="cohere/command-r", cohere_api_key=""))
    assert make_client(replace(workspace, llm="ollama/llama3.2")).name == "ollama/llama3.2"


def test_cli_generate_and_review_status(small_store, workspace, capsys, monkeypatch):
    monkeypatch.delenv("FLYWHEEL_LLM", raising=False)
    assert cli.main(["--workspace", workspace.workspace, "generate", "--n", "5", "--style", "keyword", "--seed", "2"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out.strip().splitlines()[-1])["written"] == 5 and "offline generator" in out.err
    assert cli.main(["--workspace", workspace.workspace, "review-status"]) == 0
    status = json.loads(capsys.readouterr().out.strip())
    assert status == {"generator": "offline@v1", "pending": 5, "approved": 0, "rejected": 0, "approval_rate": None}
