"""Strict JSON for request bodies: UTF-8 only, no ``NaN``/``Infinity``, and no key given twice.

A repeated key is how a second ``"model"`` gets smuggled past a check that reads the first one
while the upstream reads the last (``json.loads`` silently keeps the last): every object, at any
depth, is refused when it repeats a key.
"""

from __future__ import annotations

import json
from typing import Any

from ethos.errors import RequestRefused


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RequestRefused(
                    f"the JSON body repeats the field {key!r} in one object; give each field once",
                    reason="request.duplicate_field",
                    status=400,
                )
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a request body as strict JSON.

    Args:
        raw: The body as received.

    Returns:
        The parsed value.

    Raises:
        RequestRefused: ``request.duplicate_field`` when an object repeats a key;
            ``request.invalid_json`` when the body is empty, not UTF-8 or not JSON.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"the body is not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise _invalid("the body is empty")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise _invalid("the body nests too deeply") from None
    except ValueError as exc:
        raise _invalid(str(exc)) from None


def _invalid(detail: str) -> RequestRefused:
    return RequestRefused(f"the request body is not valid JSON: {detail}", reason="request.invalid_json", status=400)
