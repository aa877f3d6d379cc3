"""Transparency: the AI disclaimer, the ``x_ethos`` summary and normalised citations.

The disclaimer follows EU AI Act Art. 50(1) (people must be told they talk to an AI): it can be put
in front of the system prompt (so the model says so itself) and/or returned in
``x_ethos.disclaimer`` of every answer (so the client can show it).

Citations arrive in three shapes (``docs/gateway-guards.md`` shows each):

* OpenAI: ``choices[0].message.annotations = [{"type": "url_citation", "url_citation": {...}}]``;
* Perplexity: top-level ``citations: [url, ...]`` (+ ``search_results: [{title, url, ...}]``),
  referenced as ``[1]``, ``[2]`` in the text;
* Cohere: top-level ``citations: [{start, end, text, document_ids}]``.

All become OpenAI ``annotations`` on choice 0's message and a flat list in ``x_ethos.citations``.
"""

from __future__ import annotations

import re
from typing import Any

from ethos.gateway import _wire as wire
from ethos.gateway._config import DisclaimerConfig, GatewayConfig
from ethos.gateway._types import Endpoint, GuardContext

__all__ = ["apply_disclaimer", "decorate_final_chunk", "decorate_response", "normalize_citations"]

_MARKER = re.compile(r"\[(\d{1,3})\]")


def apply_disclaimer(canonical_request: dict[str, Any], endpoint: Endpoint, config: DisclaimerConfig) -> None:
    """Put the disclaimer before everything the model reads, when asked (see ``wire.prepend_system``)."""
    if config.system_prompt and config.text:
        wire.prepend_system(endpoint, canonical_request, config.text.strip())


def decorate_response(response: dict[str, Any], endpoint: Endpoint, ctx: GuardContext, config: GatewayConfig) -> None:
    """Add ``x_ethos`` (disclaimer, citations, guard decisions, redaction counts) to a whole answer."""
    answer = _answer_text(response, endpoint)
    _decorate(response, endpoint, ctx, config, answer)


def decorate_final_chunk(
    chunk: dict[str, Any], endpoint: Endpoint, ctx: GuardContext, config: GatewayConfig, answer_text: str | None
) -> None:
    """Add ``x_ethos`` to the last chunk of a streamed answer; ``answer_text`` is the text sent."""
    _decorate(chunk, endpoint, ctx, config, answer_text or "")


def _decorate(body: dict[str, Any], endpoint: Endpoint, ctx: GuardContext, config: GatewayConfig, answer: str) -> None:
    extra: dict[str, Any] = {}
    if config.disclaimer.text and config.disclaimer.response_field:
        extra["disclaimer"] = config.disclaimer.text
    if config.citations.enabled and endpoint == "chat":
        citations, dropped = _normalize(body, answer, verify_spans=config.citations.verify_spans)
        if dropped:
            ctx.record("citations", "flag", "citations.dropped", f"{dropped} citation(s) outside the answer")
        if citations:
            extra["citations"] = citations
    if ctx.decisions:
        extra["guards"] = [{"guard": d.guard, "action": d.action, "reason": d.reason} for d in ctx.decisions]
    if ctx.redactions:
        extra["redactions"] = dict(ctx.redactions)
    if extra:
        existing = body.get("x_ethos")
        body["x_ethos"] = {**existing, **extra} if isinstance(existing, dict) else extra


def _answer_text(response: dict[str, Any], endpoint: Endpoint) -> str:
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    first = choices[0]
    if endpoint == "completion":
        text = first.get("text")
    else:
        message = first.get("message") or first.get("delta") or {}
        text = message.get("content") if isinstance(message, dict) else None
    return text if isinstance(text, str) else ""


def normalize_citations(response: dict[str, Any], answer_text: str, *, verify_spans: bool) -> list[dict[str, Any]]:
    """Collect citations in any known shape; write them as OpenAI ``annotations`` on choice 0's message.

    Args:
        response: A canonical chat response (or final chunk); changed in place.
        answer_text: The answer the caller receives (offsets are checked against it).
        verify_spans: Drop citations whose offsets fall outside the answer, or whose quoted text is
            not found at those offsets.

    Returns:
        The normalised citations: ``{"type", "url"?, "title"?, "document_ids"?, "start_index"?, "end_index"?}``.
    """
    return _normalize(response, answer_text, verify_spans=verify_spans)[0]


def _normalize(response: dict[str, Any], answer_text: str, *, verify_spans: bool) -> tuple[list[dict[str, Any]], int]:
    """:func:`normalize_citations`, also returning how many citations were dropped."""
    found = _openai_annotations(response) + _perplexity(response, answer_text) + _cohere(response)
    kept: list[dict[str, Any]] = []
    dropped = 0
    seen: set[str] = set()
    for item in found:
        quoted = item.pop("_text", None)
        if verify_spans and not _span_ok(item, quoted, answer_text):
            dropped += 1
            continue
        key = repr(sorted(item.items()))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    message = _message(response)
    if message is not None and kept:
        message["annotations"] = [_as_annotation(c) for c in kept]
    return kept, dropped


def _message(response: dict[str, Any]) -> dict[str, Any] | None:
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    first = choices[0]
    message = first.get("message")
    if not isinstance(message, dict):
        message = first.get("delta")
    return message if isinstance(message, dict) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _openai_annotations(response: dict[str, Any]) -> list[dict[str, Any]]:
    message = _message(response)
    annotations = message.get("annotations") if message else None
    out: list[dict[str, Any]] = []
    for a in annotations if isinstance(annotations, list) else ():
        if not isinstance(a, dict):
            continue
        kind = a.get("type")
        body = a.get(kind) if isinstance(kind, str) else None
        if kind == "url_citation" and isinstance(body, dict) and isinstance(body.get("url"), str):
            item: dict[str, Any] = {"type": "url", "url": body["url"]}
            if isinstance(body.get("title"), str):
                item["title"] = body["title"]
        elif kind == "file_citation" and isinstance(body, dict):
            doc = body.get("file_id") or body.get("document_id")
            if not isinstance(doc, str):
                continue
            item = {"type": "document", "document_ids": [doc]}
        else:
            continue
        start, end = _int(body.get("start_index")), _int(body.get("end_index"))
        if start is not None and end is not None:
            item["start_index"], item["end_index"] = start, end
        out.append(item)
    return out


def _perplexity(response: dict[str, Any], answer: str) -> list[dict[str, Any]]:
    """Top-level ``citations: [url, ...]``: each ``[n]`` marker in the answer cites URL n (1-based)."""
    urls = response.get("citations")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        return []
    titles: dict[str, str] = {}
    results = response.get("search_results")
    for r in results if isinstance(results, list) else ():
        if isinstance(r, dict) and isinstance(r.get("url"), str) and isinstance(r.get("title"), str):
            titles[r["url"]] = r["title"]
    out: list[dict[str, Any]] = []
    marked: set[int] = set()
    for m in _MARKER.finditer(answer):
        n = int(m.group(1))
        if 1 <= n <= len(urls):
            marked.add(n)
            out.append(_url_item(urls[n - 1], titles, m.start(), m.end(), m.group(0)))
    out += [_url_item(u, titles) for i, u in enumerate(urls, 1) if i not in marked]
    return out


def _url_item(url: str, titles: dict[str, str], start: int | None = None, end: int | None = None,
              text: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "url", "url": url}
    if url in titles:
        item["title"] = titles[url]
    if start is not None and end is not None:
        item["start_index"], item["end_index"], item["_text"] = start, end, text
    return item


def _cohere(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Top-level ``citations: [{start, end, text, document_ids}]`` over the generated text."""
    citations = response.get("citations")
    out: list[dict[str, Any]] = []
    for c in citations if isinstance(citations, list) else ():
        if not isinstance(c, dict):
            continue
        docs = c.get("document_ids")
        item: dict[str, Any] = {"type": "document", "document_ids": [d for d in docs if isinstance(d, str)]
                                if isinstance(docs, list) else []}
        start, end = _int(c.get("start")), _int(c.get("end"))
        if start is not None and end is not None:
            item["start_index"], item["end_index"] = start, end
            item["_text"] = c.get("text") if isinstance(c.get("text"), str) else None
        out.append(item)
    return out


def _span_ok(item: dict[str, Any], quoted: str | None, answer: str) -> bool:
    """Offsets (when present) lie inside the answer, and the quoted text (when given) is there."""
    if "start_index" not in item:
        return True
    start, end = item["start_index"], item["end_index"]
    if not 0 <= start <= end <= len(answer):
        return False
    return quoted is None or answer[start:end] == quoted


def _as_annotation(item: dict[str, Any]) -> dict[str, Any]:
    """One normalised citation in OpenAI's ``annotations`` form."""
    span: dict[str, Any] = {k: item[k] for k in ("start_index", "end_index") if k in item}
    if item["type"] == "url":
        body: dict[str, Any] = {"url": item["url"], "title": item.get("title", item["url"]), **span}
        return {"type": "url_citation", "url_citation": body}
    docs = item.get("document_ids") or [""]
    return {"type": "file_citation", "file_citation": {"file_id": docs[0], "document_ids": docs, **span}}
