"""The gateway's wire formats: OpenAI and Ollama bodies in and out of one canonical form.

Inside the gateway every request and answer is an OpenAI-shaped ``dict`` (see
``ethos.gateway._types``). This package checks callers' bodies (:func:`parse_json`,
:func:`decode_request`), translates requests for the upstream (:func:`encode_request`) and its
answers back (:func:`decode_response`, :func:`encode_response`, :func:`decode_stream`,
:class:`StreamEncoder`), writes error bodies (:func:`error_body`), and gives guards the texts
(:func:`prompt_texts` and friends).
"""

from __future__ import annotations

from typing import Any

from ethos.gateway._types import Endpoint, Format
from ethos.gateway._wire import _ollama, _ollama_reply, _openai
from ethos.gateway._wire._access import (
    answer_side_texts,
    answer_texts,
    answer_tool_calls,
    chunk_side_texts,
    chunk_texts,
    chunk_tool_names,
    get_max_tokens,
    prepend_system,
    prompt_texts,
    set_answer_side_texts,
    set_answer_texts,
    set_chunk_side_text,
    set_chunk_text,
    set_max_tokens,
    set_prompt_texts,
    system_texts,
)
from ethos.gateway._wire._encode import StreamEncoder
from ethos.gateway._wire._errors import error_body
from ethos.gateway._wire._frames import decode_stream
from ethos.gateway._wire._json import parse_json

__all__ = [
    "StreamEncoder",
    "answer_side_texts",
    "answer_texts",
    "answer_tool_calls",
    "chunk_side_texts",
    "chunk_texts",
    "chunk_tool_names",
    "decode_models",
    "decode_request",
    "decode_response",
    "decode_stream",
    "encode_models",
    "encode_request",
    "encode_response",
    "error_body",
    "get_max_tokens",
    "parse_json",
    "prepend_system",
    "prompt_texts",
    "set_answer_side_texts",
    "set_answer_texts",
    "set_chunk_side_text",
    "set_chunk_text",
    "set_max_tokens",
    "set_prompt_texts",
    "system_texts",
]


def decode_request(fmt: Format, endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """Check a caller's parsed body for its route and return the canonical (OpenAI-shaped) request.

    Args:
        fmt: The caller's wire format (by the route it used).
        endpoint: ``chat``, ``completion`` or ``embedding``.
        body: The parsed JSON body (see :func:`parse_json`).

    Returns:
        A new canonical request dict; Ollama-only fields are in its ``x_ollama``.

    Raises:
        RequestRefused: ``request.invalid`` (400), naming the field path and what it expects.
    """
    if fmt == "openai":
        return _openai.decode_request(endpoint, body)
    return _ollama.decode_request(endpoint, body)


def encode_request(
    fmt: Format, endpoint: Endpoint, canonical: dict[str, Any], model: str
) -> tuple[str, dict[str, Any]]:
    """The upstream path and body for a canonical request.

    Args:
        fmt: The upstream's wire format.
        endpoint: ``chat``, ``completion`` or ``embedding``.
        canonical: The canonical request (after the guards).
        model: The upstream's name for the model (after aliases).

    Returns:
        ``(path, body)``. A streamed OpenAI request always asks for usage
        (``stream_options.include_usage``): the gateway's token limits need the counts.

    Raises:
        RequestRefused: ``request.unsupported`` when the upstream cannot do what was asked
            (``n > 1`` or several prompts on Ollama).
    """
    if fmt == "openai":
        return _openai.encode_request(endpoint, canonical, model)
    return _ollama.encode_request(endpoint, canonical, model)


def decode_response(fmt: Format, endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """An upstream's non-streamed reply as a canonical answer.

    Raises:
        MalformedResponseError: The reply lacks a field or has one of the wrong type (named).
    """
    if fmt == "openai":
        return _openai.decode_response(endpoint, body)
    return _ollama_reply.decode_response(endpoint, body)


def encode_response(fmt: Format, endpoint: Endpoint, canonical: dict[str, Any], model: str) -> dict[str, Any]:
    """A canonical answer in the caller's format, named by the caller's ``model``; ``x_ethos`` is kept."""
    if fmt == "openai":
        return _openai.encode_response(endpoint, canonical, model)
    return _ollama_reply.encode_response(endpoint, canonical, model)


def decode_models(fmt: Format, body: Any) -> list[str]:
    """Model names from an upstream's ``/v1/models`` or ``/api/tags`` reply.

    Raises:
        MalformedResponseError: The reply has no model list.
    """
    return _openai.decode_models(body) if fmt == "openai" else _ollama_reply.decode_models(body)


def encode_models(fmt: Format, names: list[str], upstream_body: Any | None) -> dict[str, Any]:
    """The caller's model list for ``names``; entries of ``upstream_body`` (same format) are kept."""
    if fmt == "openai":
        return _openai.encode_models(names, upstream_body)
    return _ollama_reply.encode_models(names, upstream_body)
