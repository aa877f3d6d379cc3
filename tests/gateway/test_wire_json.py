"""Strict JSON parsing of request bodies and the error bodies of both formats."""

from __future__ import annotations

import pytest

from ethos.errors import RequestRefused
from ethos.gateway._wire import error_body, parse_json


def test_when_body_is_valid_then_it_parses() -> None:
    assert parse_json(b'{"model": "m", "messages": [{"role": "user", "content": "h\\u00e9"}]}') == {
        "model": "m",
        "messages": [{"role": "user", "content": "hé"}],
    }


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "allowed", "model": "secret"}',
        b'{"messages": [{"role": "user", "content": "a", "content": "b"}]}',
        b'{"a": {"b": {"c": [{"d": 1, "d": 2}]}}}',
    ],
)
def test_when_an_object_repeats_a_key_at_any_depth_then_it_is_refused(raw: bytes) -> None:
    with pytest.raises(RequestRefused) as info:
        parse_json(raw)
    assert info.value.reason == "request.duplicate_field"
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("raw", "detail"),
    [(b"", "empty"), (b"\xff\xfe{}", "UTF-8"), (b'{"a": NaN}', "NaN"), (b'{"a": ', "Expecting"), (b"[" * 100000, "")],
)
def test_when_body_is_not_strict_json_then_it_is_refused_as_invalid_json(raw: bytes, detail: str) -> None:
    with pytest.raises(RequestRefused) as info:
        parse_json(raw)
    assert info.value.reason == "request.invalid_json"
    assert detail in str(info.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (429, "rate_limit_error"),
        (502, "server_error"),
        (504, "timeout"),
    ],
)
def test_when_openai_caller_is_refused_then_the_error_has_openais_shape(status: int, kind: str) -> None:
    body = error_body("openai", status, "auth.missing_key", "send a key")
    assert body == {"error": {"message": "send a key", "type": kind, "param": None, "code": "auth.missing_key"}}


def test_when_ollama_caller_is_refused_then_the_error_is_a_flat_string() -> None:
    assert error_body("ollama", 429, "limit.requests", "slow down") == {"error": "slow down", "code": "limit.requests"}
