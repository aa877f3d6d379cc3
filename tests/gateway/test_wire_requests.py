"""Callers' request bodies into canonical form and out to each upstream format, and the text accessors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ethos.errors import RequestRefused
from ethos.gateway import _wire as wire

CHAT = {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}


def refusal(fmt: Any, endpoint: Any, body: Any) -> str:
    with pytest.raises(RequestRefused) as info:
        wire.decode_request(fmt, endpoint, body)
    assert info.value.reason == "request.invalid" and info.value.status == 400
    return str(info.value)


@pytest.mark.parametrize(
    ("endpoint", "body", "named"),
    [
        ("chat", [], "the request body: expected a JSON object"),
        ("chat", {"messages": []}, "model: expected a non-empty string"),
        ("chat", {"model": "  ", "messages": [{"role": "user", "content": "x"}]}, "model:"),
        ("chat", {"model": "m", "messages": []}, "messages: expected a non-empty list"),
        ("chat", {"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role: expected one of"),
        ("chat", {"model": "m", "messages": [{"role": "user", "content": 3}]}, "messages[0].content: expected a str"),
        (
            "chat",
            {**CHAT, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content[0].text",
        ),
        ("chat", {**CHAT, "stream": "yes"}, "stream: expected true or false, got a string"),
        ("chat", {**CHAT, "temperature": "hot"}, "temperature: expected a number, got a string"),
        ("chat", {**CHAT, "temperature": 7}, "temperature: expected a number from 0.0 to 2.0, got 7"),
        ("chat", {**CHAT, "max_tokens": 0}, "max_tokens: expected an integer from 1"),
        ("chat", {**CHAT, "max_tokens": 2.5}, "max_tokens: expected an integer, got a number"),
        ("chat", {**CHAT, "n": 9}, "n: expected an integer from 1 to 8"),
        ("chat", {**CHAT, "max_completion_tokens": True}, "max_completion_tokens: expected an integer, got a boolean"),
        ("completion", {"model": "m", "prompt": [1, 2, 3]}, "prompt[0]: expected a string (token ids"),
        ("completion", {"model": "m"}, "prompt: expected a string or a non-empty list"),
        ("embedding", {"model": "m", "input": {"a": 1}}, "input: expected a string or a non-empty list"),
        ("embedding", {"model": "m", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_when_openai_body_is_invalid_then_the_refusal_names_the_field(endpoint: str, body: Any, named: str) -> None:
    assert named in refusal("openai", endpoint, body)


@pytest.mark.parametrize(
    ("endpoint", "body", "named"),
    [
        ("chat", {"model": "m", "messages": [{"role": "user", "content": ["x"]}]}, "messages[0].content"),
        ("chat", {"model": "m", "messages": [{"role": "developer", "content": "x"}]}, "messages[0].role"),
        ("chat", {"model": "m", "messages": [], "options": {"temperature": "x"}}, "options.temperature"),
        ("chat", {"model": "m", "messages": [], "options": {"num_predict": 10**9}}, "options.num_predict"),
        ("chat", {"model": "m", "messages": [], "options": []}, "options: expected an object"),
        ("completion", {"model": "m", "prompt": None}, "prompt: expected a string, got null"),
        ("completion", {"model": "m", "system": 5}, "system: expected a string"),
        ("embedding", {"model": "m", "input": [1]}, "input[0]"),
    ],
)
def test_when_ollama_body_is_invalid_then_the_refusal_names_the_field(endpoint: str, body: Any, named: str) -> None:
    assert named in refusal("ollama", endpoint, body)


def test_when_openai_chat_is_decoded_then_it_is_the_body_itself_without_internal_fields() -> None:
    body = {**CHAT, "temperature": 0, "logit_bias": {"1": 2}, "x_ollama": {"raw": True}, "x_ethos": {}}
    canonical = wire.decode_request("openai", "chat", body)
    assert canonical == {**CHAT, "temperature": 0, "logit_bias": {"1": 2}}


def test_when_openai_stream_goes_to_an_openai_upstream_then_usage_is_always_asked_for() -> None:
    canonical = wire.decode_request("openai", "chat", {**CHAT, "stream": True})
    path, body = wire.encode_request("openai", "chat", canonical, "upstream-name")
    assert path == "/v1/chat/completions"
    assert body["model"] == "upstream-name"
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == CHAT["messages"]


def test_when_ollama_chat_is_decoded_then_options_map_and_the_rest_travels_in_x_ollama() -> None:
    body = {
        "model": "llama3",
        "messages": [{"role": "user", "content": "look", "images": ["iVBORw0KGgo="]}],
        "options": {"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["\n"], "num_predict": 12, "num_ctx": 4096},
        "keep_alive": "5m",
        "format": "json",
        "think": False,
    }
    canonical = wire.decode_request("ollama", "chat", copy.deepcopy(body))
    assert canonical["stream"] is True  # Ollama streams unless told not to
    assert (canonical["temperature"], canonical["top_p"], canonical["seed"]) == (0.2, 0.9, 7)
    assert canonical["stop"] == ["\n"] and canonical["max_tokens"] == 12
    assert canonical["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    assert canonical["x_ollama"] == {"keep_alive": "5m", "format": "json", "think": False, "options": {"num_ctx": 4096}}
    path, native = wire.encode_request("ollama", "chat", canonical, "llama3:8b")
    assert path == "/api/chat"
    assert native == {**body, "model": "llama3:8b", "stream": True}


def test_when_ollama_chat_goes_to_an_openai_upstream_then_ollama_only_fields_are_dropped() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": False, "keep_alive": 0}
    body["options"] = {"num_predict": 5, "mirostat": 1}
    path, upstream = wire.encode_request("openai", "chat", wire.decode_request("ollama", "chat", body), "up")
    assert path == "/v1/chat/completions"
    assert upstream == {
        "model": "up",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "max_tokens": 5,
    }


def test_when_ollama_generate_goes_to_an_openai_upstream_then_it_is_a_one_turn_chat() -> None:
    body = {"model": "m", "prompt": "Why?", "system": "Be brief.", "stream": False}
    path, upstream = wire.encode_request(
        "openai", "completion", wire.decode_request("ollama", "completion", body), "up"
    )
    assert path == "/v1/chat/completions"
    assert upstream["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]
    raw = wire.decode_request("ollama", "completion", {**body, "raw": True, "suffix": "end"})
    assert wire.encode_request("openai", "completion", raw, "up")[0] == "/v1/completions"


def test_when_openai_completion_goes_to_ollama_then_it_is_raw_and_n_above_one_is_refused() -> None:
    canonical = wire.decode_request("openai", "completion", {"model": "m", "prompt": ["Once"], "max_tokens": 3})
    path, native = wire.encode_request("ollama", "completion", canonical, "up")
    assert (path, native) == ("/api/generate", {"model": "up", "prompt": "Once", "raw": True, "stream": False,
                                                "options": {"num_predict": 3}})  # fmt: skip
    with pytest.raises(RequestRefused) as info:
        wire.encode_request("ollama", "chat", wire.decode_request("openai", "chat", {**CHAT, "n": 2}), "up")
    assert info.value.reason == "request.unsupported"


def test_when_ollama_legacy_embeddings_body_is_decoded_then_prompt_becomes_input() -> None:
    canonical = wire.decode_request("ollama", "embedding", {"model": "m", "prompt": "text", "keep_alive": "1m"})
    assert canonical["input"] == "text"
    assert wire.encode_request("ollama", "embedding", canonical, "up") == (
        "/api/embed",
        {"keep_alive": "1m", "model": "up", "input": "text"},
    )


def test_when_x_ollama_names_a_model_then_the_upstream_still_gets_the_resolved_one() -> None:
    canonical = wire.decode_request("ollama", "chat", {"model": "allowed", "messages": []})
    canonical["x_ollama"]["model"] = "forbidden"
    assert wire.encode_request("ollama", "chat", canonical, "allowed")[1]["model"] == "allowed"


def test_when_prompt_texts_are_rewritten_then_every_caller_text_is_replaced_in_place() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": [{"type": "text", "text": "A"}, {"type": "image_url", "image_url": {}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]},
        ],
    }
    canonical = wire.decode_request("openai", "chat", body)
    assert wire.prompt_texts("chat", canonical) == ["S", "A", "{}"]
    wire.set_prompt_texts("chat", canonical, ["s", "a", '{"x": 1}'])
    assert wire.prompt_texts("chat", canonical) == ["s", "a", '{"x": 1}']
    with pytest.raises(ValueError, match="expected 3"):
        wire.set_prompt_texts("chat", canonical, ["only one"])
    generate = wire.decode_request("ollama", "completion", {"model": "m", "prompt": "P", "system": "Y", "suffix": "Z"})
    assert wire.prompt_texts("completion", generate) == ["P", "Y", "Z"]
    assert wire.system_texts(generate) == ["Y"]
    embed = wire.decode_request("openai", "embedding", {"model": "m", "input": ["a", "b"]})
    wire.set_prompt_texts("embedding", embed, ["A", "B"])
    assert embed["input"] == ["A", "B"]


def test_when_a_system_text_is_prepended_then_it_comes_first() -> None:
    chat = wire.decode_request("openai", "chat", copy.deepcopy(CHAT))
    wire.prepend_system("chat", chat, "You talk to an AI.")
    assert chat["messages"][0] == {"role": "system", "content": "You talk to an AI.\n\nBe brief."}
    assert wire.system_texts(chat) == ["You talk to an AI.\n\nBe brief."]
    bare = wire.decode_request("openai", "chat", {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    wire.prepend_system("chat", bare, "D")
    assert bare["messages"][0] == {"role": "system", "content": "D"}
    completion = wire.decode_request("openai", "completion", {"model": "m", "prompt": ["p", "q"]})
    wire.prepend_system("completion", completion, "D")
    assert completion["prompt"] == ["D\n\np", "D\n\nq"]


def test_when_max_tokens_is_capped_then_each_length_field_present_is_set() -> None:
    canonical = wire.decode_request("openai", "chat", {**CHAT, "max_completion_tokens": 50})
    assert wire.get_max_tokens(canonical) == 50
    wire.set_max_tokens(canonical, 10)
    assert canonical["max_completion_tokens"] == 10 and "max_tokens" not in canonical
    bare = wire.decode_request("openai", "chat", copy.deepcopy(CHAT))
    assert wire.get_max_tokens(bare) is None
    wire.set_max_tokens(bare, 4)
    assert wire.encode_request("ollama", "chat", bare, "up")[1]["options"] == {"num_predict": 4}
