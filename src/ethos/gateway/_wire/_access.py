"""Reading and rewriting the texts of canonical requests, answers and stream chunks.

Guards see only text: these accessors list every caller text that reaches the upstream (and
every answer text that reaches the caller) in a fixed order, and write a same-length list back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ethos.gateway._types import Endpoint

_X_OLLAMA_TEXTS = ("system", "template", "suffix")
"""Ollama request fields the upstream reads as text (``x_ollama``), in the order listed."""


def _slots(endpoint: Endpoint, canonical: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) holding a caller text, in a fixed order."""
    if endpoint == "chat":
        for message in canonical.get("messages") or ():
            yield from _message_slots(message)
    elif endpoint in ("completion", "embedding"):
        key = "prompt" if endpoint == "completion" else "input"
        value = canonical.get(key)
        if isinstance(value, str):
            yield canonical, key
        elif isinstance(value, list):
            yield from ((value, i) for i, item in enumerate(value) if isinstance(item, str))
        if endpoint == "completion" and isinstance(canonical.get("suffix"), str):
            yield canonical, "suffix"
    if endpoint in ("chat", "completion"):
        # OpenAI's end-user id and predicted output reach the upstream as text too.
        if isinstance(canonical.get("user"), str):
            yield canonical, "user"
        prediction = canonical.get("prediction")
        if isinstance(prediction, dict):
            yield from _content_slots(prediction)
    extra = canonical.get("x_ollama")
    if isinstance(extra, dict):
        yield from ((extra, key) for key in _X_OLLAMA_TEXTS if isinstance(extra.get(key), str))


_SIDE_FIELDS = ("refusal", "reasoning_content", "reasoning", "thinking")
"""Message fields besides ``content`` that hold model-written text: a refusal and reasoning (OpenAI
servers name it ``reasoning_content`` or ``reasoning``, Ollama ``thinking``)."""


def _message_slots(message: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    yield from _content_slots(message)
    yield from _side_slots(message)


def _side_slots(message: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(container, key) of a message's side texts (:data:`_SIDE_FIELDS`) and tool-call arguments."""
    yield from ((message, key) for key in _SIDE_FIELDS if isinstance(message.get(key), str))
    yield from _argument_slots(message)


def _tool_functions(message: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, function object)`` of each tool call in a message or a stream delta."""
    for place, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            yield _call_index(call, place), function


def _argument_slots(message: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(function object, ``"arguments"``) of each tool call whose arguments are JSON text."""
    yield from ((function, "arguments") for _, function in _tool_functions(message)
                if isinstance(function.get("arguments"), str))  # fmt: skip


def _content_slots(holder: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    content = holder.get("content")
    if isinstance(content, str):
        yield holder, "content"
    elif isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            key = "refusal" if part.get("type") == "refusal" else "text"
            if part.get("type") in ("text", "refusal") and isinstance(part.get(key), str):
                yield part, key


def prompt_texts(endpoint: Endpoint, canonical: dict[str, Any]) -> list[str]:
    """Every caller text of a canonical request that reaches the upstream, in a fixed order.

    Chat: each message's content (text and refusal parts one by one), refusal, reasoning
    (``reasoning_content``, ``reasoning``, ``thinking``) and tool-call arguments; completion: the
    prompt(s) and suffix; chat and completion: ``user`` and the predicted output; embedding: the
    input(s); then Ollama's ``system``/``template``/``suffix``.
    """
    return [container[key] for container, key in _slots(endpoint, canonical)]


def set_prompt_texts(endpoint: Endpoint, canonical: dict[str, Any], texts: list[str]) -> None:
    """Write back texts in :func:`prompt_texts` order (same length).

    Raises:
        ValueError: When ``texts`` has a different length.
    """
    slots = list(_slots(endpoint, canonical))
    if len(slots) != len(texts):
        raise ValueError(f"expected {len(slots)} prompt texts, got {len(texts)}")
    for (container, key), text in zip(slots, texts, strict=True):
        container[key] = text


def system_texts(canonical: dict[str, Any]) -> list[str]:
    """The system prompts: system/developer messages' text, and Ollama's ``system`` field."""
    out: list[str] = []
    for message in canonical.get("messages") or ():
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, str):
                out.append(content)
            elif isinstance(content, list):
                out.extend(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    extra = canonical.get("x_ollama")
    if isinstance(extra, dict) and isinstance(extra.get("system"), str) and extra["system"]:
        out.append(extra["system"])
    return out


def prepend_system(endpoint: Endpoint, canonical: dict[str, Any], text: str) -> None:
    """Put ``text`` before everything the model reads.

    Chat: a prefix to the first system message (string or parts), else a new first system message.
    Completion: a prefix to Ollama's ``system`` when there is one (the model reads it first), else
    to the prompt (each prompt of a list).
    """
    if endpoint == "chat":
        messages = canonical.setdefault("messages", [])
        for message in messages:
            if isinstance(message, dict) and message.get("role") == "system":
                message["content"] = _prefixed(text, message.get("content"))
                return
        messages.insert(0, {"role": "system", "content": text})
        return
    if endpoint != "completion":
        return
    extra = canonical.get("x_ollama")
    if isinstance(extra, dict) and isinstance(extra.get("system"), str) and extra["system"]:
        extra["system"] = f"{text}\n\n{extra['system']}"
        return
    prompt = canonical.get("prompt")
    if isinstance(prompt, str):
        canonical["prompt"] = f"{text}\n\n{prompt}"
    elif isinstance(prompt, list):
        canonical["prompt"] = [f"{text}\n\n{p}" if isinstance(p, str) else p for p in prompt]


def _prefixed(text: str, content: Any) -> Any:
    if isinstance(content, str):
        return f"{text}\n\n{content}" if content else text
    if isinstance(content, list):
        return [{"type": "text", "text": text}, *content]
    return text


def get_max_tokens(canonical: dict[str, Any]) -> int | None:
    """The answer-length cap the caller asked for (``max_completion_tokens`` first), if any."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = canonical.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def set_max_tokens(canonical: dict[str, Any], n: int) -> None:
    """Cap the answer length: every length field present is set, ``max_tokens`` when none is."""
    present = [key for key in ("max_completion_tokens", "max_tokens") if canonical.get(key) is not None]
    for key in present or ["max_tokens"]:
        canonical[key] = n


def answer_texts(endpoint: Endpoint, response: dict[str, Any]) -> list[str]:
    """One text per choice of a canonical answer (``[]`` for embeddings)."""
    if endpoint == "chat":
        return [(c.get("message") or {}).get("content") or "" for c in response.get("choices") or ()]
    if endpoint == "completion":
        return [c.get("text") or "" for c in response.get("choices") or ()]
    return []


def set_answer_texts(endpoint: Endpoint, response: dict[str, Any], texts: list[str]) -> None:
    """Write back one text per choice, in :func:`answer_texts` order."""
    choices = response.get("choices") or []
    if len(choices) != len(texts):
        raise ValueError(f"expected {len(choices)} answer texts, got {len(texts)}")
    for choice, text in zip(choices, texts, strict=True):
        if endpoint == "chat":
            message = choice.setdefault("message", {"role": "assistant"})
            if message.get("content") is not None or text:
                message["content"] = text
        elif endpoint == "completion":
            choice["text"] = text


def _answer_side_slots(response: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a non-streamed chat answer holding text other than ``content``."""
    for choice in response.get("choices") or ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            yield from _side_slots(message)


def answer_tool_calls(response: dict[str, Any]) -> list[dict[str, str]]:
    """``{"name", "arguments"}`` of each tool call in the first choice of a chat answer."""
    choices = response.get("choices") or [{}]
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    out = []
    for _, function in _tool_functions(message or {}):
        name, arguments = function.get("name"), function.get("arguments")
        out.append({"name": name if isinstance(name, str) else "",
                    "arguments": arguments if isinstance(arguments, str) else ""})  # fmt: skip
    return out


def answer_side_texts(response: dict[str, Any]) -> list[str]:
    """The model-written texts of a chat answer besides its content: tool-call arguments, refusal, reasoning."""
    return [container[key] for container, key in _answer_side_slots(response)]


def set_answer_side_texts(response: dict[str, Any], texts: list[str]) -> None:
    """Write back :func:`answer_side_texts`, same order and length."""
    slots = list(_answer_side_slots(response))
    if len(slots) != len(texts):
        raise ValueError(f"expected {len(slots)} answer side texts, got {len(texts)}")
    for (container, key), text in zip(slots, texts, strict=True):
        container[key] = text


_TOOL_FIELD = "tool_calls."
"""Prefix of a side field naming one tool call's arguments: ``tool_calls.<index>``."""


def chunk_side_texts(chunk: dict[str, Any]) -> list[tuple[int, str, str]]:
    """``(choice index, field, text)`` for the model-written texts of a chat chunk besides its content.

    ``field`` is ``refusal``, ``reasoning_content`` or ``reasoning`` for those deltas, and
    ``tool_calls.<index>`` for a fragment of one tool call's arguments (the call's own ``index``).
    """
    out: list[tuple[int, str, str]] = []
    for position, choice in enumerate(chunk.get("choices") or ()):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        index = choice.get("index", position)
        out += [(index, key, delta[key]) for key in _SIDE_FIELDS if isinstance(delta.get(key), str)]
        out += [(index, f"{_TOOL_FIELD}{i}", function["arguments"]) for i, function in _tool_functions(delta)
                if isinstance(function.get("arguments"), str)]  # fmt: skip
    return out


def chunk_tool_names(chunk: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, name piece)`` of the tool calls in a chat chunk's first choice (see :func:`chunk_side_texts`)."""
    out: list[tuple[str, str]] = []
    for position, choice in enumerate(chunk.get("choices") or ()):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict) or choice.get("index", position) != 0:
            continue
        out += [(f"{_TOOL_FIELD}{i}", function["name"]) for i, function in _tool_functions(delta)
                if isinstance(function.get("name"), str)]  # fmt: skip
    return out


def set_chunk_side_text(chunk: dict[str, Any], index: int, field: str, text: str) -> None:
    """Set one side text (see :func:`chunk_side_texts`) of a choice in a chat chunk.

    A field the chunk lacks is created only for a non-empty ``text``: that is how the tail a guard
    held back reaches the caller in the choice's last chunk.
    """
    for position, choice in enumerate(chunk.get("choices") or ()):
        if choice.get("index", position) != index:
            continue
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
        if not field.startswith(_TOOL_FIELD):
            if text or delta.get(field) is not None:
                delta[field] = text
            return
        call_index = int(field[len(_TOOL_FIELD) :])
        calls = delta.get("tool_calls")
        if not isinstance(calls, list):
            calls = []
        for place, call in enumerate(calls):
            if isinstance(call, dict) and _call_index(call, place) == call_index:
                call.setdefault("function", {})["arguments"] = text
                return
        if text:
            calls.append({"index": call_index, "function": {"arguments": text}})
            delta["tool_calls"] = calls
        return


def _call_index(call: dict[str, Any], place: int) -> int:
    """A streamed tool call's ``index``; its place in the list when the upstream gave none (or no integer)."""
    index = call.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else place


def chunk_texts(chunk: dict[str, Any]) -> list[tuple[int, str, bool]]:
    """``(choice index, text, finished)`` for every choice of a stream chunk."""
    out = []
    for position, choice in enumerate(chunk.get("choices") or ()):
        index = choice.get("index", position)
        delta = choice.get("delta")
        text = (delta.get("content") if isinstance(delta, dict) else None) if "text" not in choice else choice["text"]
        out.append((index, text if isinstance(text, str) else "", choice.get("finish_reason") is not None))
    return out


def set_chunk_text(chunk: dict[str, Any], index: int, text: str) -> None:
    """Set one choice's text in a stream chunk (creating ``delta.content`` when missing)."""
    for position, choice in enumerate(chunk.get("choices") or ()):
        if choice.get("index", position) != index:
            continue
        if "text" in choice or (chunk.get("object") == "text_completion" and "delta" not in choice):
            choice["text"] = text
        else:
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                delta = choice["delta"] = {}
            if text or delta.get("content") is not None:
                delta["content"] = text
        return
