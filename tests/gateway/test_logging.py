"""Structured logs: one JSON object per line on stderr, fields from ``extra``, no exception messages."""

from __future__ import annotations

import json
import logging

import pytest

from ethos.gateway._logging import configure_logging, log_request


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line]


def test_when_a_request_is_logged_then_one_json_line_with_ts_level_event_and_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = configure_logging("info")
    log_request(logger, request_id="r1", route="/api/chat", status=200, latency_ms=1.5)
    logger.info("request", extra={"fields": {"request_id": "r2", "status": 429}})
    first, second = lines(capsys.readouterr().err)
    assert first["event"] == "request"
    assert first["level"] == "info"
    assert str(first["ts"]).endswith("Z")
    assert {k: first[k] for k in ("request_id", "route", "status", "latency_ms")} == {
        "request_id": "r1", "route": "/api/chat", "status": 200, "latency_ms": 1.5,
    }  # fmt: skip
    assert second["request_id"] == "r2"


def test_when_level_is_warning_then_requests_are_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    logger = configure_logging("warning")
    log_request(logger, request_id="r1")
    logger.warning("upstream slow", extra={"upstream_ms": 900})
    (only,) = lines(capsys.readouterr().err)
    assert only["event"] == "upstream slow"
    assert only["upstream_ms"] == 900


def test_when_configured_twice_then_lines_are_not_doubled(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info")
    logger = configure_logging("info")
    log_request(logger, request_id="r1")
    assert len(lines(capsys.readouterr().err)) == 1
    assert logger.propagate is False


def test_when_an_exception_is_logged_then_its_type_and_stack_but_not_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = configure_logging("info")
    secret = "my secret " + "prompt text"  # built at run time: the stack quotes source lines, not values
    try:
        raise ValueError(secret)
    except ValueError:
        logger.exception("internal error", extra={"request_id": "r9"})
    (line,) = lines(capsys.readouterr().err)
    assert line["exc_type"] == "ValueError"
    assert "test_logging.py" in str(line["stack"])
    assert "prompt text" not in json.dumps(line)


def test_when_text_format_is_asked_then_key_value_lines(capsys: pytest.CaptureFixture[str]) -> None:
    logger = configure_logging("debug", json=False)
    log_request(logger, request_id="r1", status=200)
    out = capsys.readouterr().err
    assert "info    request request_id=r1 status=200" in out
    assert logger.level == logging.DEBUG
