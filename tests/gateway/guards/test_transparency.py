"""Transparency: disclaimer in the system prompt, the x_ethos summary, citations in three shapes."""

from __future__ import annotations

from typing import Any

from ethos.gateway._config import CitationsConfig, DisclaimerConfig, GatewayConfig
from ethos.gateway._types import GuardContext
from ethos.gateway.guards import apply_disclaimer, decorate_final_chunk, decorate_response, normalize_citations

NOTICE = "You are talking to an AI system."


def make_ctx() -> GuardContext:
    return GuardContext()


def chat_response(content: str, **extra: Any) -> dict[str, Any]:
    return {"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant",
                                                                              "content": content}}], **extra}


def test_when_the_disclaimer_goes_in_the_system_prompt_then_chat_and_completion_get_it_first() -> None:
    config = DisclaimerConfig(text=NOTICE, system_prompt=True)
    with_system = {"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "Be brief."}]}
    apply_disclaimer(with_system, "chat", config)
    assert with_system["messages"][1]["content"] == f"{NOTICE}\n\nBe brief."
    without = {"messages": [{"role": "user", "content": "hi"}]}
    apply_disclaimer(without, "chat", config)
    assert without["messages"][0] == {"role": "system", "content": NOTICE}
    completion = {"prompt": ["a", "b"]}
    apply_disclaimer(completion, "completion", config)
    assert completion["prompt"] == [f"{NOTICE}\n\na", f"{NOTICE}\n\nb"]
    # An Ollama generate with its own system text: the model reads that first, so the notice goes there.
    generate = {"prompt": "a", "x_ollama": {"system": "Be brief."}}
    apply_disclaimer(generate, "completion", config)
    assert generate == {"prompt": "a", "x_ollama": {"system": f"{NOTICE}\n\nBe brief."}}
    parts = {"messages": [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}]}
    apply_disclaimer(parts, "chat", config)
    assert parts["messages"][0]["content"] == [{"type": "text", "text": NOTICE}, {"type": "text", "text": "Be brief."}]
    untouched = {"messages": [{"role": "user", "content": "hi"}]}
    apply_disclaimer(untouched, "chat", DisclaimerConfig(text=NOTICE))
    assert untouched == {"messages": [{"role": "user", "content": "hi"}]}


def test_when_a_response_is_decorated_then_x_ethos_holds_only_the_parts_that_exist() -> None:
    ctx = make_ctx()
    plain = chat_response("Paris.")
    decorate_response(plain, "chat", ctx, GatewayConfig())
    assert "x_ethos" not in plain
    ctx.record("pii", "modify", "pii.redacted", "PERSON×1")
    ctx.redactions["PERSON"] += 1
    body = chat_response("Paris.")
    decorate_response(body, "chat", ctx, GatewayConfig(disclaimer=DisclaimerConfig(text=NOTICE)))
    assert body["x_ethos"] == {
        "disclaimer": NOTICE,
        "guards": [{"guard": "pii", "action": "modify", "reason": "pii.redacted"}],
        "redactions": {"PERSON": 1},
    }


def test_when_openai_annotations_arrive_then_they_are_kept_and_listed() -> None:
    answer = "Paris is the capital [1]."
    note = {"type": "url_citation", "url_citation": {"url": "https://a.example", "title": "A", "start_index": 21,
                                                      "end_index": 24}}
    body = chat_response(answer)
    body["choices"][0]["message"]["annotations"] = [note]
    assert normalize_citations(body, answer, verify_spans=True) == [
        {"type": "url", "url": "https://a.example", "title": "A", "start_index": 21, "end_index": 24}
    ]
    assert body["choices"][0]["message"]["annotations"] == [note]


def test_when_perplexity_citations_arrive_then_markers_become_url_annotations() -> None:
    answer = "Paris [1] and Lyon [2]."
    body = chat_response(answer, citations=["https://p.example", "https://l.example"],
                         search_results=[{"title": "Paris", "url": "https://p.example"}])
    found = normalize_citations(body, answer, verify_spans=True)
    assert [c["url"] for c in found] == ["https://p.example", "https://l.example"]
    first = body["choices"][0]["message"]["annotations"][0]["url_citation"]
    assert first == {"url": "https://p.example", "title": "Paris", "start_index": 6, "end_index": 9}


def test_when_cohere_citations_have_wrong_spans_then_they_are_dropped_and_flagged() -> None:
    answer = "The sky is blue."
    body = chat_response(answer, citations=[
        {"start": 11, "end": 15, "text": "blue", "document_ids": ["doc_1"]},
        {"start": 0, "end": 7, "text": "The sea", "document_ids": ["doc_2"]},
        {"start": 10, "end": 99, "text": "x", "document_ids": ["doc_3"]},
    ])
    ctx = make_ctx()
    decorate_response(body, "chat", ctx, GatewayConfig())
    assert body["x_ethos"]["citations"] == [{"type": "document", "document_ids": ["doc_1"], "start_index": 11,
                                             "end_index": 15}]
    assert body["choices"][0]["message"]["annotations"] == [{"type": "file_citation", "file_citation": {
        "file_id": "doc_1", "document_ids": ["doc_1"], "start_index": 11, "end_index": 15}}]
    assert [(d.reason, d.detail) for d in ctx.decisions] == [("citations.dropped", "2 citation(s) outside the answer")]
    unchecked = chat_response(answer, citations=body["citations"])
    assert len(normalize_citations(unchecked, answer, verify_spans=False)) == 3


def test_when_the_final_chunk_is_decorated_then_it_uses_the_streamed_text() -> None:
    chunk = {"object": "chat.completion.chunk", "citations": ["https://p.example"],
             "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]}
    config = GatewayConfig(citations=CitationsConfig(verify_spans=True))
    decorate_final_chunk(chunk, "chat", make_ctx(), config, "As shown [1].")
    assert chunk["x_ethos"]["citations"][0]["start_index"] == 9
    assert chunk["choices"][0]["delta"]["annotations"][0]["type"] == "url_citation"
