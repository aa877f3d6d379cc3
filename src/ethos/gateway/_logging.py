"""Structured logs for the gateway: one JSON object per line on stderr, never a prompt or an answer.

Every line has ``ts`` (UTC, ISO 8601 with milliseconds), ``level`` and ``event``, then the fields
the caller passed, either as ``extra={"fields": {...}}`` (what :func:`log_request` does) or as
plain ``extra`` keys. The gateway passes only ids, the route, model, status, reason code, latencies
and token counts. An exception adds its type and stack but not its message, which may quote input.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
import time
import traceback
from typing import Any

__all__ = ["LOGGER_NAME", "JsonFormatter", "configure_logging", "log_request"]

LOGGER_NAME = "ethos.gateway"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "fields"}


def _timestamp(record: logging.LogRecord) -> str:
    seconds = int(record.created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
    given = record.__dict__.get("fields")
    if isinstance(given, dict):
        out.update(given)
    if record.exc_info and record.exc_info[0] is not None:
        out["exc_type"] = record.exc_info[0].__name__
        out["stack"] = "".join(traceback.format_tb(record.exc_info[2])).rstrip()
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts``, ``level``, ``event`` and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON."""
        line = {"ts": _timestamp(record), "level": record.levelname.lower(), "event": record.getMessage()}
        line.update(_fields(record))
        return jsonlib.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


class TextFormatter(logging.Formatter):
    """``ts level event key=value ...`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of text."""
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items() if v is not None and k != "stack")
        return f"{_timestamp(record)} {record.levelname.lower():7} {record.getMessage()} {fields}".rstrip()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at configuration time.

    A handler bound to the stream of the moment keeps writing to it after it is closed (a test
    runner's capture, a replaced stderr) and logging then prints "--- Logging error ---".
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str, *, json: bool = True) -> logging.Logger:
    """Send the ``ethos.gateway`` logger to stderr, one line per record (calling it again replaces that).

    Args:
        level: ``debug``, ``info``, ``warning`` or ``error``.
        json: One JSON object per line (for log collectors); ``False`` gives ``key=value`` text.

    Returns:
        The configured logger; it does not propagate to the root logger, so lines are not doubled.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if getattr(h, "_ethos", False)]:
        logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler._ethos = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(_LEVELS.get(level.lower(), logging.INFO))
    logger.propagate = False
    return logger


def log_request(logger: logging.Logger, **fields: Any) -> None:
    """Log one finished request as ``event="request"`` with ``fields`` (ids, route, status, latency...).

    Never pass prompt or answer text here: log lines leave the machine through log collectors.
    """
    if logger.isEnabledFor(logging.INFO):
        logger.info("request", extra={"fields": fields})
