"""The gateway's OpenAPI 3.1 document (``GET /openapi.json``).

Request schemas state exactly what :func:`ethos.gateway._wire.decode_request` accepts (the
ranges come from ``ethos.gateway._wire._check``), so a client generated from this document, or
a fuzzer such as schemathesis, gets a 200 for what the document calls valid and a documented 400
otherwise. Unknown fields are allowed: OpenAI and Ollama add fields often, and the gateway passes
them on (OpenAI) or keeps them in ``x_ollama`` (Ollama).
"""

from __future__ import annotations

from typing import Any

from ethos import __version__
from ethos.gateway._config import GatewayConfig
from ethos.gateway._wire._schemas import ref, request_schemas, response_schemas

_ERRORS = {
    "400": "The body is not valid JSON, repeats a field, or a field is invalid (the message names it).",
    "401": "No key, or an unknown, revoked or expired key.",
    "403": "The key may not use this endpoint or model, or a guard refused the request.",
    "404": "The model is not served, or the model server does not know it.",
    "413": "The body is larger than the gateway accepts.",
    "429": "A rate or token limit of the key was reached (see Retry-After).",
    "4XX": "The model server refused the request; its status is kept.",
    "502": "The model server is unreachable, failed, or sent a malformed reply.",
    "503": "The gateway is starting or shutting down.",
    "504": "The model server did not answer in time.",
}


def _errors(schema: str, codes: tuple[str, ...] = tuple(_ERRORS)) -> dict[str, Any]:
    content = {"application/json": {"schema": ref(schema)}}
    return {code: {"description": _ERRORS[code], "content": content} for code in codes}


_HEADERS = {
    "x-request-id": {
        "description": "The gateway's id for this request (also in its audit log).",
        "schema": {"type": "string"},
    },
}


def _operation(summary: str, request: str | None, answer: str, stream: str | None, error: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": ref(answer)}}
    if stream is not None:
        content[stream] = {"schema": {"type": "string"}}
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": "The answer.", "headers": _HEADERS, "content": content}, **_errors(error)},
    }
    if request is not None:
        body = {"application/json": {"schema": ref(request)}}
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def _paths() -> dict[str, Any]:
    sse, ndjson = "text/event-stream", "application/x-ndjson"
    ops: dict[str, tuple[str, str, str | None, str, str | None, str]] = {
        "/v1/chat/completions": ("post", "Chat (OpenAI)", "ChatRequest", "ChatCompletion", sse, "Error"),
        "/v1/completions": ("post", "Complete a prompt (OpenAI)", "CompletionRequest", "Completion", sse, "Error"),
        "/v1/embeddings": ("post", "Embed texts (OpenAI)", "EmbeddingRequest", "Embeddings", None, "Error"),
        "/v1/models": ("get", "List the models a key may use (OpenAI)", None, "ModelList", None, "Error"),
        "/api/chat": ("post", "Chat (Ollama)", "OllamaChatRequest", "OllamaChatResponse", ndjson, "OllamaError"),
        "/api/generate": (
            "post",
            "Complete a prompt (Ollama)",
            "OllamaGenerateRequest",
            "OllamaGenerateResponse",
            ndjson,
            "OllamaError",
        ),
        "/api/embed": (
            "post",
            "Embed texts (Ollama)",
            "OllamaEmbedRequest",
            "OllamaEmbedResponse",
            None,
            "OllamaError",
        ),
        "/api/tags": ("get", "List the models a key may use (Ollama)", None, "OllamaTags", None, "OllamaError"),
    }
    paths = {
        path: {method: _operation(summary, request, answer, stream, error)}
        for path, (method, summary, request, answer, stream, error) in ops.items()
    }
    paths["/healthz"] = {
        "get": {
            "summary": "Liveness (no key needed)",
            "security": [],
            "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": ref("Health")}}}},
        }
    }
    metrics_errors = _errors("Error", ("401", "403"))
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics (needs an admin key when keys are on)",
            "responses": {
                "200": {
                    "description": "Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **metrics_errors,
            },
        }
    }
    return paths


def openapi_document(config: GatewayConfig) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route the gateway serves to ordinary keys.

    Args:
        config: The gateway's settings (whether keys are required decides the security section).

    Returns:
        The document as a JSON-ready dict.
    """
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Ethos gateway",
            "version": __version__,
            "description": (
                "An OpenAI- and Ollama-compatible gateway with keys, limits and content guards in front of one "
                "model server. Inference routes take no query parameters: every field goes in the JSON body."
            ),
        },
        "paths": _paths(),
        "components": {"schemas": {**request_schemas(), **response_schemas()}},
    }
    if config.server.require_keys:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An Ethos gateway key."}
        }
        document["security"] = [{"bearer": []}]
    return document
