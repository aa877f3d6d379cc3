"""JSON Schemas of the wire bodies, for the OpenAPI document (``ethos.gateway._openapi``).

Request schemas state exactly what :func:`ethos.gateway._wire.decode_request` accepts: the ranges
come from ``_check``, and a test checks that schema and decoder agree body by body.
"""

from __future__ import annotations

from typing import Any

from ethos.gateway._wire import _check as check

_REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of ``components.schemas``."""
    return {"$ref": _REF + name}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _number(bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    if bounds is not None:
        schema.update(minimum=bounds[0], maximum=bounds[1])
    return _nullable(schema)


def _integer(bounds: tuple[int, int] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    if bounds is not None:
        schema.update(minimum=bounds[0], maximum=bounds[1])
    return _nullable(schema)


_MODEL = {"type": "string", "minLength": 1, "pattern": r"\S", "description": "The model, as the gateway serves it."}
_TEXTS = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "minItems": 1, "items": {"type": "string"}},
    ],
    "description": "A text or a non-empty list of texts (token-id lists are refused: guards read text).",
}
_STOP = _nullable({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
_BOOL = {"type": ["boolean", "null"]}
_STRING = {"type": ["string", "null"]}
_OBJECT = {"type": ["object", "null"]}

_PART = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
    "if": {"properties": {"type": {"const": "text"}}},
    "then": {"required": ["text"]},
}
_TOOL_CALLS = _nullable(
    {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["function"],
            "properties": {
                "function": {
                    "type": "object",
                    "properties": {"arguments": _nullable({"type": ["string", "object"]})},
                }
            },
        },
    }
)


def _message(roles: tuple[str, ...], content: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["role"],
        "properties": {"role": {"enum": list(roles)}, "content": content, "tool_calls": _TOOL_CALLS, **(extra or {})},
    }


def _openai_common() -> dict[str, Any]:
    props: dict[str, Any] = {
        "model": _MODEL,
        "stream": _BOOL,
        "stream_options": _nullable(
            {"type": "object", "properties": {"include_usage": _BOOL}},
        ),
        "stop": _STOP,
        "user": _STRING,
    }
    props.update({key: _number(bounds) for key, bounds in check.NUMBER_RANGES.items()})
    props.update({key: _integer(bounds) for key, bounds in check.INT_RANGES.items()})
    return props


def request_schemas() -> dict[str, Any]:
    """The request bodies' schemas, by component name."""
    openai_content = _nullable({"oneOf": [{"type": "string"}, {"type": "array", "items": _PART}]})
    ollama_options = {
        "type": ["object", "null"],
        "properties": {
            **{key: _number() for key in ("temperature", "top_p", "presence_penalty", "frequency_penalty")},
            "seed": _integer(check.INT64),
            "stop": _STOP,
            "num_predict": _integer((-2, check.MAX_TOKENS)),
        },
    }
    ollama_common = {"model": _MODEL, "stream": _BOOL, "options": ollama_options}
    images = _nullable({"type": "array", "items": {"type": "string"}})
    return {
        "ChatRequest": {
            "type": "object",
            "required": ["model", "messages"],
            "properties": {
                **_openai_common(),
                "messages": {"type": "array", "minItems": 1, "items": _message(check.CHAT_ROLES, openai_content)},
                "logprobs": _BOOL,
            },
        },
        "CompletionRequest": {
            "type": "object",
            "required": ["model", "prompt"],
            "properties": {
                **_openai_common(),
                "prompt": _TEXTS,
                "logprobs": _integer((0, 20)),
                "echo": _BOOL,
                "suffix": _STRING,
            },
        },
        "EmbeddingRequest": {
            "type": "object",
            "required": ["model", "input"],
            "properties": {
                **_openai_common(),
                "input": _TEXTS,
                "dimensions": _integer((1, 65_536)),
                "encoding_format": _nullable({"enum": ["float", "base64"]}),
            },
        },
        "OllamaChatRequest": {
            "type": "object",
            "required": ["model"],
            "properties": {
                **ollama_common,
                "messages": {
                    "type": "array",
                    "items": _message(check.OLLAMA_ROLES, _STRING, {"images": images}),
                    "description": "May be empty: Ollama then only loads the model.",
                },
                "logprobs": _BOOL,
                "top_logprobs": _integer((0, 20)),
            },
        },
        "OllamaGenerateRequest": {
            "type": "object",
            "required": ["model"],
            "properties": {
                **ollama_common,
                "prompt": {
                    "type": "string",
                    "description": "May be empty or absent: Ollama then only loads the model.",
                },
                "system": _STRING,
                "suffix": _STRING,
                "template": _STRING,
            },
        },
        "OllamaEmbedRequest": {
            "type": "object",
            "required": ["model", "input"],
            "properties": {"model": _MODEL, "input": _TEXTS, "stream": _BOOL, "options": _OBJECT},
        },
    }


def response_schemas() -> dict[str, Any]:
    """The answer and error bodies' schemas, by component name."""
    usage = {"type": "object", "properties": {k: {"type": "integer"} for k in ("prompt_tokens", "completion_tokens")}}
    x_ethos = {"type": "object", "description": "The gateway's notes: disclaimer, guard decisions, citations."}
    message = {
        "type": "object",
        "properties": {"role": {"type": "string"}, "content": _STRING, "annotations": {"type": "array"}},
    }

    def listing(choice: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["choices"],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "properties": choice}},
                "usage": _nullable(usage),
                "x_ethos": x_ethos,
            },
        }

    ollama_final = {
        "model": {"type": "string"},
        "created_at": {"type": "string"},
        "done": {"type": "boolean"},
        "done_reason": {"type": "string"},
        "prompt_eval_count": {"type": "integer"},
        "eval_count": {"type": "integer"},
        "x_ethos": x_ethos,
    }
    return {
        "ChatCompletion": listing({"index": {"type": "integer"}, "message": message, "finish_reason": _STRING}),
        "Completion": listing({"index": {"type": "integer"}, "text": {"type": "string"}, "finish_reason": _STRING}),
        "Embeddings": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "object": {"type": "string"},
                "data": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"embedding": {"type": ["array", "string"]}}},
                },
                "model": {"type": "string"},
                "usage": usage,
            },
        },
        "ModelList": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "object": {"type": "string"},
                "data": {
                    "type": "array",
                    "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                },
            },
        },
        "OllamaChatResponse": {
            "type": "object",
            "required": ["model", "message", "done"],
            "properties": {**ollama_final, "message": message},
        },
        "OllamaGenerateResponse": {
            "type": "object",
            "required": ["model", "response", "done"],
            "properties": {**ollama_final, "response": {"type": "string"}},
        },
        "OllamaEmbedResponse": {
            "type": "object",
            "required": ["model", "embeddings"],
            "properties": {
                "model": {"type": "string"},
                "embeddings": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "prompt_eval_count": {"type": "integer"},
            },
        },
        "OllamaTags": {
            "type": "object",
            "required": ["models"],
            "properties": {
                "models": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
                }
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type", "code"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "param": {"type": "null"},
                        "code": {"type": "string", "description": "The gateway's stable reason code."},
                    },
                }
            },
        },
        "OllamaError": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
        },
    }
