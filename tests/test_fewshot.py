"""The few-shot library: pin, unpin, reorder; the generator uses the chosen set; the JSON export names who approved."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from streamlit.testing.v1 import AppTest

from core.commands.main import main
from core.errors import InputError
from core.labeling import fewshot, generation
from core.storage.store import Store
from tests.conftest import ROOT, fill_small


def approve(store, query_ids, reviewer="ann") -> None:
    for q in query_ids:
        store.update_where("queries", f"query_id = '{q}'", {"reviewer": reviewer, "reviewed_at": datetime(2026, 3, 1)})


def test_pin_reorder_unpin(small_store):
    approve(small_store, ["q1", "q2", "q3"])
    for q in ("q1", "q2", "q3"):
        fewshot.pin(small_store, "pm", "keyword", q)
    fewshot.pin(small_store, "pm", "keyword", "q1")  # already there: no duplicate
    assert list(fewshot.members(small_store, "keyword")["query_id"]) == ["q1", "q2", "q3"]
    fewshot.move(small_store, "pm", "keyword", "q3", -2)
    assert list(fewshot.members(small_store, "keyword")["query_id"]) == ["q3", "q1", "q2"]
    fewshot.unpin(small_store, "pm", "keyword", "q1")
    frame = fewshot.members(small_store, "keyword")
    assert list(frame["query_id"]) == ["q3", "q2"] and list(frame["position"]) == [0, 1]
    assert list(frame["approved_by"]) == ["ann", "ann"] and list(frame["pinned_by"]) == ["pm", "pm"]
    assert fewshot.set_names(small_store) == ["keyword"]
    small_store.update_where("queries", "query_id = 'q4'", {"status": "pending"})
    with pytest.raises(InputError, match="expects an approved query"):
        fewshot.pin(small_store, "pm", "keyword", "q4")


class Recording:
    """A generator that records the few-shot examples it was given (the LLM generator's interface)."""

    name = "recording@test"

    def __init__(self):
        self.seen = None

    def queries(self, doc, style, n, examples):
        self.seen = examples
        return [f"recorded query {doc['doc_id']}"]


def test_generator_uses_the_chosen_set(small_store):
    approve(small_store, ["q4", "q5"])
    fewshot.pin(small_store, "pm", "members", "q5")
    fewshot.pin(small_store, "pm", "members", "q4")
    recorder = Recording()
    docs = small_store.read("documents").head(1)
    generation.generate(small_store, recorder, docs, fewshot_set="members")
    assert recorder.seen.approved == [("what is an HSA", ""), ("add my newborn to my plan", "")]
    with pytest.raises(InputError, match="has none"):
        generation.generate(small_store, recorder, docs, fewshot_set="empty")


def test_export_fewshot_json(workspace, tmp_path, capsys):
    store = fill_small(Store(workspace.db_uri))
    approve(store, ["q1"], reviewer="bob")
    fewshot.pin(store, "pm", "questions", "q1")
    out = tmp_path / "fewshot.json"
    assert main(["export", "--format", "fewshot", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == {"fewshot_sets": 1, "fewshot_examples": 1}
    data = json.loads(out.read_text())
    assert data["sets"]["questions"][0] == {"query": "silver ppo deductible 2025", "document_title": "", "approved_by": "bob",
                                            "approved_at": "2026-03-01T00:00:00", "query_id": "q1"}


def test_review_page_pins_to_a_new_set(small_store):
    at = AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=60)
    at.session_state["reviewer"] = "ann"
    at.run()
    at.selectbox(key="fewshot_set").set_value("new set…").run()
    at.text_input(key="fewshot_new").input("keyword").run()
    at.selectbox(key="fewshot_pick").set_value("q2").run()
    at.button(key="fewshot_pin").click().run()
    assert not at.exception
    assert list(fewshot.members(small_store, "keyword")["query_id"]) == ["q2"]
    at.selectbox(key="fewshot_set").set_value("keyword").run()
    assert any("do I need a PA for an MRI" in m.value for m in at.markdown)
