"""Stream frames: SSE and NDJSON parsed from chunks split anywhere, in-band errors, early ends, encoding."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ethos.errors import MalformedResponseError, ServerResponseError, ServerUnreachableError
from ethos.gateway import _wire as wire

HEAD = {"id": "c1", "object": "chat.completion.chunk", "model": "up"}


def sse(choices: list[dict[str, Any]], end: bytes = b"\n\n", **extra: Any) -> bytes:
    return b"data: " + json.dumps({**HEAD, "choices": choices, **extra}, ensure_ascii=False).encode() + end


def delta(content: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": content, "finish_reason": finish}]


ERROR_EVENT = b'data: {"error": {"message": "model crashed", "type": "server_error"}}\n\n'
SSE = (
    b": ping\n\n"
    + sse(delta({"role": "assistant", "content": ""}))
    + sse(delta({"content": "Grü"}), b"\r\n\r\n")
    + sse(delta({}, "stop"))
    + sse([], usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})
    + b"data: [DONE]\n\n"
)

NDJSON = (
    b'{"model":"up","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Gr\xc3\xbc"},"done":false}\n'
    b'{"model":"up","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"ss"},"done":false}\n'
    b'{"model":"up","created_at":"2026-01-01T00:00:01Z","message":{"role":"assistant","content":""},"done":true,'
    b'"done_reason":"length","total_duration":9,"prompt_eval_count":4,"eval_count":2,"eval_duration":5}\n'
)  # fmt: skip


async def _feed(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def collect(fmt: Any, endpoint: Any, parts: list[bytes]) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [chunk async for chunk in wire.decode_stream(fmt, endpoint, _feed(parts))]

    return asyncio.run(run())


def texts(chunks: list[dict[str, Any]]) -> str:
    return "".join(text for chunk in chunks for _, text, _ in wire.chunk_texts(chunk))


def test_when_sse_is_split_at_every_byte_offset_then_the_chunks_are_the_same() -> None:
    whole = collect("openai", "chat", [SSE])
    assert texts(whole) == "Grü"
    assert whole[-1]["usage"]["total_tokens"] == 5
    assert [f for c in whole for _, _, f in wire.chunk_texts(c)] == [False, False, True]
    for cut in range(1, len(SSE)):
        assert collect("openai", "chat", [SSE[:cut], SSE[cut:]]) == whole, cut
    assert collect("openai", "chat", [bytes([b]) for b in SSE]) == whole


def test_when_ndjson_is_split_at_every_byte_offset_then_the_last_line_gives_finish_and_usage() -> None:
    whole = collect("ollama", "chat", [NDJSON])
    assert texts(whole) == "Grüss"
    assert whole[0]["choices"][0]["delta"]["role"] == "assistant"
    assert whole[-2]["choices"][0]["finish_reason"] == "length"
    assert whole[-1]["choices"] == []
    assert whole[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    for cut in range(1, len(NDJSON)):
        assert [c["choices"] for c in collect("ollama", "chat", [NDJSON[:cut], NDJSON[cut:]])] == [
            c["choices"] for c in whole
        ], cut


@pytest.mark.parametrize(
    ("fmt", "stream"),
    [
        ("openai", sse(delta({"content": "Gr"})) + ERROR_EVENT),
        ("ollama", NDJSON.splitlines(keepends=True)[0] + b'{"error": "model crashed"}\n'),
    ],
)
def test_when_upstream_reports_an_error_in_band_then_decoding_raises_it(fmt: str, stream: bytes) -> None:
    with pytest.raises(ServerResponseError, match="model crashed") as info:
        collect(fmt, "chat", [stream])
    assert info.value.status == 502


@pytest.mark.parametrize(
    ("fmt", "stream"),
    [
        ("openai", SSE[: SSE.index(b"data: [DONE]")]),
        ("openai", SSE[:200]),
        ("ollama", b"".join(NDJSON.splitlines(keepends=True)[:2])),
        ("ollama", NDJSON[:-30]),
        ("ollama", b""),
    ],
)
def test_when_stream_ends_before_its_terminator_then_decoding_raises_early_close(fmt: str, stream: bytes) -> None:
    with pytest.raises(ServerUnreachableError, match="closed the stream early"):
        collect(fmt, "chat", [stream])


def test_when_a_frame_is_not_json_then_decoding_raises_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="not JSON"):
        collect("openai", "chat", [b"data: {oops\n\n"])


def test_when_a_chat_stream_answers_a_generate_then_chunks_become_text_chunks() -> None:
    chunks = collect("openai", "completion", [SSE])
    assert chunks[0]["object"] == "text_completion"
    assert texts(chunks) == "Grü"


def encode_all(encoder: wire.StreamEncoder, chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(encoder.encode(chunk) for chunk in chunks) + encoder.close()


def test_when_ollama_chunks_are_encoded_for_an_openai_caller_then_the_official_parser_reads_them() -> None:
    chunks = collect("ollama", "chat", [NDJSON])
    out = encode_all(wire.StreamEncoder("openai", "chat", "public", include_usage=False), chunks)
    assert out.endswith(b"data: [DONE]\n\n") and b'"usage"' not in out
    again = collect("openai", "chat", [out])
    assert texts(again) == "Grüss" and {c["model"] for c in again} == {"public"}
    with_usage = encode_all(wire.StreamEncoder("openai", "chat", "public", include_usage=True), chunks)
    assert collect("openai", "chat", [with_usage])[-1]["usage"]["completion_tokens"] == 2


def test_when_openai_chunks_are_encoded_for_an_ollama_caller_then_the_last_line_carries_counts_and_notes() -> None:
    chunks = collect("openai", "chat", [SSE])
    chunks[2]["x_ethos"] = {"disclaimer": "AI"}
    encoder = wire.StreamEncoder("ollama", "chat", "public", include_usage=False)
    assert encoder.media_type == "application/x-ndjson"
    lines = [json.loads(line) for line in encode_all(encoder, chunks).splitlines()]
    assert [line["done"] for line in lines] == [False, True]
    assert lines[0]["message"] == {"role": "assistant", "content": "Grü"}
    final = lines[-1]
    assert (final["done_reason"], final["prompt_eval_count"], final["eval_count"]) == ("stop", 3, 2)
    assert final["x_ethos"] == {"disclaimer": "AI"} and final["model"] == "public"
    assert texts(collect("ollama", "chat", [encode_all(wire.StreamEncoder("ollama", "chat", "p", include_usage=False),
                                                       collect("ollama", "chat", [NDJSON]))])) == "Grüss"  # fmt: skip


def test_when_a_generate_stream_ends_without_usage_then_close_still_sends_the_done_line() -> None:
    lines = [
        {"model": "up", "response": "Grü", "done": False},
        {"model": "up", "response": "ss", "done": False},
        {"model": "up", "response": "", "done": True, "done_reason": "length", "eval_count": 2},
    ]
    chunks = collect("ollama", "completion", [b"".join(json.dumps(line).encode() + b"\n" for line in lines)])
    encoder = wire.StreamEncoder("ollama", "completion", "p", include_usage=False)
    body = b"".join(encoder.encode(c) for c in chunks[:-1]) + encoder.close()
    sent = [json.loads(line) for line in body.splitlines()]
    assert "".join(line["response"] for line in sent) == "Grüss"
    assert sent[-1]["done"] is True and sent[-1]["done_reason"] == "length"


@pytest.mark.parametrize("fmt", ["openai", "ollama"])
def test_when_an_error_is_encoded_in_band_then_the_decoder_raises_it(fmt: Any) -> None:
    encoder = wire.StreamEncoder(fmt, "chat", "p", include_usage=False)
    frame = encoder.error(429, "limit.tokens", "token limit reached")
    with pytest.raises(ServerResponseError, match="token limit reached"):
        collect(fmt, "chat", [frame])


def test_when_chunk_text_is_set_then_a_missing_delta_content_is_created() -> None:
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    assert wire.chunk_texts(chunk) == [(0, "", True)]
    wire.set_chunk_text(chunk, 0, "held back")
    assert chunk["choices"][0]["delta"] == {"content": "held back"}
    text_chunk = {"object": "text_completion", "choices": [{"index": 1, "text": "a", "finish_reason": None}]}
    wire.set_chunk_text(text_chunk, 1, "b")
    assert wire.chunk_texts(text_chunk) == [(1, "b", False)]


# -- tool calls, refusals and reasoning in streams ------------------------------------------------

TOOL_SSE = (
    sse(delta({"role": "assistant", "content": None, "reasoning_content": "The user wants mail."}))
    + sse(delta({"tool_calls": [{"index": 0, "id": "c0", "type": "function",
                                 "function": {"name": "send", "arguments": '{"to": "a@'}}]}))  # fmt: skip
    + sse(delta({"tool_calls": [{"index": 0, "function": {"arguments": 'b.org"}'}}]}))
    + sse(delta({"tool_calls": [{"index": 1, "id": "c1", "type": "function",
                                 "function": {"name": "log", "arguments": "{}"}}]}))  # fmt: skip
    + sse(delta({}, "tool_calls"))
    + b"data: [DONE]\n\n"
)


def test_when_a_chunk_has_side_texts_then_they_are_listed_by_choice_and_field_and_set_back() -> None:
    chunks = collect("openai", "chat", [TOOL_SSE])
    side = [entry for chunk in chunks for entry in wire.chunk_side_texts(chunk)]
    assert side == [
        (0, "reasoning_content", "The user wants mail."),
        (0, "tool_calls.0", '{"to": "a@'),
        (0, "tool_calls.0", 'b.org"}'),
        (0, "tool_calls.1", "{}"),
    ]
    wire.set_chunk_side_text(chunks[1], 0, "tool_calls.0", "{")
    assert chunks[1]["choices"][0]["delta"]["tool_calls"][0]["function"] == {"name": "send", "arguments": "{"}
    # A held-back tail reaches the finish chunk, which had no such field.
    last = chunks[-1]
    wire.set_chunk_side_text(last, 0, "tool_calls.1", "")
    assert last["choices"][0]["delta"] == {}
    wire.set_chunk_side_text(last, 0, "tool_calls.1", '"}')
    wire.set_chunk_side_text(last, 0, "refusal", "no")
    assert last["choices"][0]["delta"] == {
        "tool_calls": [{"index": 1, "function": {"arguments": '"}'}}],
        "refusal": "no",
    }
    assert wire.chunk_side_texts(last) == [(0, "refusal", "no"), (0, "tool_calls.1", '"}')]


def test_when_streamed_tool_call_fragments_go_to_an_ollama_caller_then_each_call_arrives_whole() -> None:
    chunks = collect("openai", "chat", [TOOL_SSE])
    encoder = wire.StreamEncoder("ollama", "chat", "public", include_usage=False)
    lines = [json.loads(line) for line in encode_all(encoder, chunks).splitlines()]
    assert [line["done"] for line in lines] == [False, False, True]
    assert lines[0]["message"]["thinking"] == "The user wants mail."
    assert lines[1]["message"]["tool_calls"] == [
        {"function": {"name": "send", "arguments": {"to": "a@b.org"}}},
        {"function": {"name": "log", "arguments": {}}},
    ]


def test_when_ollama_streams_calls_on_separate_lines_then_each_call_gets_its_own_index() -> None:
    def line(message: dict[str, Any], done: bool = False) -> bytes:
        body = {"model": "up", "message": {"role": "assistant", "content": "", **message}, "done": done}
        return json.dumps(body).encode() + b"\n"

    stream = (
        line({"thinking": "Two calls."})
        + line({"tool_calls": [{"function": {"name": "a", "arguments": {"x": 1}}}]})
        + line({"tool_calls": [{"function": {"name": "b", "arguments": {"y": 2}}}]})
        + line({}, done=True)
    )
    chunks = collect("ollama", "chat", [stream])
    assert chunks[0]["choices"][0]["delta"]["reasoning"] == "Two calls."
    calls = [call for chunk in chunks for call in (chunk["choices"] or [{}])[0].get("delta", {}).get("tool_calls", [])]
    assert [(c["index"], c["id"], c["function"]["name"]) for c in calls] == [(0, "call_0", "a"), (1, "call_1", "b")]
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    # Back to an Ollama caller: the thinking line, then both calls whole, then the done line.
    out = [json.loads(x) for x in encode_all(wire.StreamEncoder("ollama", "chat", "p", include_usage=False),
                                             chunks).splitlines()]  # fmt: skip
    assert out[0]["message"]["thinking"] == "Two calls."
    assert [c["function"] for c in out[1]["message"]["tool_calls"]] == [
        {"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {"y": 2}}]  # fmt: skip


def test_when_a_whole_answer_has_reasoning_then_it_travels_as_thinking_and_back() -> None:
    reply = {"model": "up", "message": {"role": "assistant", "content": "4", "thinking": "2+2"}, "done": True}
    answer = wire.decode_response("ollama", "chat", reply)
    assert answer["choices"][0]["message"]["reasoning"] == "2+2"
    assert wire.encode_response("ollama", "chat", answer, "p")["message"]["thinking"] == "2+2"
    assert wire.encode_response("openai", "chat", answer, "p")["choices"][0]["message"]["reasoning"] == "2+2"
    vllm = {"id": "x", "object": "chat.completion", "created": 0, "model": "up",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "4", "reasoning_content": "2+2"}}]}  # fmt: skip
    out = wire.encode_response("ollama", "chat", wire.decode_response("openai", "chat", vllm), "p")
    assert out["message"]["thinking"] == "2+2"
