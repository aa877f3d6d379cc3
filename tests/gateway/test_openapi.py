"""The OpenAPI document: every served route, and request schemas that agree with ``decode_request``."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from ethos.errors import RequestRefused
from ethos.gateway import _wire as wire
from ethos.gateway._config import GatewayConfig, ServerConfig
from ethos.gateway._openapi import openapi_document

DOC = openapi_document(GatewayConfig())
ROUTES = {
    ("/v1/chat/completions", "post", "openai", "chat"): "ChatRequest",
    ("/v1/completions", "post", "openai", "completion"): "CompletionRequest",
    ("/v1/embeddings", "post", "openai", "embedding"): "EmbeddingRequest",
    ("/api/chat", "post", "ollama", "chat"): "OllamaChatRequest",
    ("/api/generate", "post", "ollama", "completion"): "OllamaGenerateRequest",
    ("/api/embed", "post", "ollama", "embedding"): "OllamaEmbedRequest",
}
MSG = [{"role": "user", "content": "hi"}]

# (format, endpoint, body): valid and invalid bodies; the schema and the decoder must agree on each.
BODIES: list[tuple[str, str, Any]] = [
    ("openai", "chat", {"model": "m", "messages": MSG}),
    ("openai", "chat", {"model": "m", "messages": MSG, "temperature": 2, "top_p": 0, "n": 8, "seed": -5}),
    ("openai", "chat", {"model": "m", "messages": MSG, "max_tokens": 131_072, "stop": ["a"], "stream": None}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "assistant", "content": None}], "extra": {"any": 1}}),
    ("openai", "chat", {"model": "m", "messages": MSG, "stream_options": {"include_usage": True}}),
    ("openai", "chat", {"model": "", "messages": MSG}),
    ("openai", "chat", {"model": " ", "messages": MSG}),
    ("openai", "chat", {"model": "m", "messages": []}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "user", "content": 1}]}),
    ("openai", "chat", {"model": "m", "messages": MSG, "max_tokens": 131_073}),
    ("openai", "chat", {"model": "m", "messages": MSG, "max_tokens": 0}),
    ("openai", "chat", {"model": "m", "messages": MSG, "n": 9}),
    ("openai", "chat", {"model": "m", "messages": MSG, "temperature": -0.1}),
    ("openai", "chat", {"model": "m", "messages": MSG, "seed": 2**63}),
    ("openai", "chat", {"model": "m", "messages": MSG, "stream": 1}),
    ("openai", "chat", {"model": "m", "messages": MSG, "stop": [1]}),
    ("openai", "chat", {"model": "m", "messages": MSG, "logprobs": "yes"}),
    ("openai", "chat", {"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "x"}]}]}),
    ("openai", "chat", {"messages": MSG}),
    ("openai", "completion", {"model": "m", "prompt": "x", "logprobs": 5, "echo": True}),
    ("openai", "completion", {"model": "m", "prompt": ["x", "y"], "suffix": None}),
    ("openai", "completion", {"model": "m", "prompt": []}),
    ("openai", "completion", {"model": "m", "prompt": [[1, 2]]}),
    ("openai", "completion", {"model": "m", "prompt": "x", "logprobs": 21}),
    ("openai", "embedding", {"model": "m", "input": "x", "encoding_format": "base64", "dimensions": 8}),
    ("openai", "embedding", {"model": "m", "input": "x", "encoding_format": "hex"}),
    ("openai", "embedding", {"model": "m", "input": 5}),
    ("ollama", "chat", {"model": "m"}),
    ("ollama", "chat", {"model": "m", "messages": [], "options": {"temperature": 5, "num_predict": -1}}),
    ("ollama", "chat", {"model": "m", "messages": [{"role": "user", "content": "x", "images": ["AAAA"]}]}),
    ("ollama", "chat", {"model": "m", "messages": [{"role": "developer", "content": "x"}]}),
    ("ollama", "chat", {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}),
    ("ollama", "chat", {"model": "m", "messages": [{"role": "user", "images": [1]}]}),
    ("ollama", "chat", {"model": "m", "options": {"num_predict": -3}}),
    ("ollama", "chat", {"model": "m", "options": {"seed": 1.5}}),
    ("ollama", "chat", {"model": "m", "messages": None}),
    ("ollama", "chat", {"model": "m", "top_logprobs": 21}),
    ("ollama", "completion", {"model": "m"}),
    ("ollama", "completion", {"model": "m", "prompt": "", "system": None, "keep_alive": "5m"}),
    ("ollama", "completion", {"model": "m", "prompt": None}),
    ("ollama", "completion", {"model": "m", "prompt": "x", "template": 3}),
    ("ollama", "embedding", {"model": "m", "input": ["a", "b"], "truncate": True}),
    ("ollama", "embedding", {"model": "m", "input": []}),
    ("ollama", "embedding", {"model": "m", "input": "x", "options": 3}),
]


def _accepts(fmt: Any, endpoint: Any, body: Any) -> bool:
    try:
        wire.decode_request(fmt, endpoint, body)
    except RequestRefused:
        return False
    return True


def _schema_for(fmt: str, endpoint: str) -> Any:
    name = next(v for (_, _, f, e), v in ROUTES.items() if (f, e) == (fmt, endpoint))
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": DOC["components"]})


@pytest.mark.parametrize(("fmt", "endpoint", "body"), BODIES)
def test_when_a_body_is_checked_then_the_schema_and_the_decoder_agree(fmt: str, endpoint: str, body: Any) -> None:
    assert _schema_for(fmt, endpoint).is_valid(body) == _accepts(fmt, endpoint, body)


def test_when_the_document_is_built_then_every_served_route_is_in_it_with_its_errors() -> None:
    assert DOC["openapi"].startswith("3.1")
    expected = {path for path, *_ in ROUTES} | {"/v1/models", "/api/tags", "/healthz", "/metrics"}
    assert set(DOC["paths"]) == expected
    for (path, method, _, _), schema in ROUTES.items():
        operation = DOC["paths"][path][method]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
        assert {"200", "400", "401", "403", "404", "413", "429", "502", "504"} <= set(operation["responses"])
    chat = DOC["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert set(chat) == {"application/json", "text/event-stream"}
    assert "application/x-ndjson" in DOC["paths"]["/api/chat"]["post"]["responses"]["200"]["content"]
    assert DOC["paths"]["/healthz"]["get"]["security"] == []
    assert DOC["security"] == [{"bearer": []}]
    assert "security" not in openapi_document(GatewayConfig(server=ServerConfig(require_keys=False)))


@pytest.mark.parametrize("fmt", ["openai", "ollama"])
def test_when_an_error_body_is_written_then_it_matches_the_documented_error_schema(fmt: Any) -> None:
    name = "Error" if fmt == "openai" else "OllamaError"
    validator = jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    )
    assert validator.is_valid(wire.error_body(fmt, 403, "auth.scope", "not for this key"))
