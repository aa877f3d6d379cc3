"""Defects found by the security review of the gateway, each pinned by the test that showed it.

Every test runs a real gateway on loopback in front of the scripted upstream, which records what it
received, so "did personal data reach the upstream?" is read from the upstream's own request log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import Gw
from tests.helpers.gateway import MODEL, ScriptedUpstream
from tests.helpers.servers import closed_port

EMAIL = "alice.smith@example.com"


def _post(gw: Gw, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(gw.url + path, json=body, headers=gw.auth(), timeout=30)


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_when_an_image_url_part_is_not_an_object_then_no_500(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, kind: str
) -> None:
    gw = make_gateway(kind, upstream_url=scripted.url)
    parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": "http://example.com/a.png"}]
    response = _post(gw, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": parts}]})
    assert response.status_code < 500, response.text


_LEAKY_OPENAI_BODIES: dict[str, dict[str, Any]] = {
    "tool-call arguments as an object": {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"to": EMAIL}}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sent"},
        ]
    },
    "a refusal content part": {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": EMAIL}]},
        ]
    },
    "an assistant's refusal field": {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "refusal": EMAIL}]
    },
    "an assistant's reasoning_content": {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "x", "reasoning_content": EMAIL},
        ]
    },
    "an assistant's reasoning": {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "reasoning": EMAIL}]
    },
    "the user field": {"user": EMAIL, "messages": [{"role": "user", "content": "hi"}]},
    "a predicted output": {
        "prediction": {"type": "content", "content": EMAIL},
        "messages": [{"role": "user", "content": "hi"}],
    },
}


@pytest.mark.parametrize("case", sorted(_LEAKY_OPENAI_BODIES))
def test_when_pii_sits_in_an_openai_field_the_guard_skipped_then_it_does_not_reach_the_upstream(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, case: str
) -> None:
    gw = make_gateway("openai", upstream_url=scripted.url, pii={"enabled": True})
    response = _post(gw, "/v1/chat/completions", {"model": MODEL, **_LEAKY_OPENAI_BODIES[case]})
    assert response.status_code == 200, response.text
    assert scripted.script.requests, "the request did not reach the upstream"
    assert EMAIL not in scripted.script.bodies()


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_when_an_ollama_assistant_message_has_thinking_with_pii_then_it_does_not_reach_the_upstream(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, kind: str
) -> None:
    gw = make_gateway(kind, upstream_url=scripted.url, pii={"enabled": True})
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "thinking": f"mail {EMAIL}"}]
    response = _post(gw, "/api/chat", {"model": MODEL, "stream": False, "messages": messages})
    assert response.status_code == 200, response.text
    assert scripted.script.requests
    assert EMAIL not in scripted.script.bodies()


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_when_the_upstream_url_holds_credentials_then_upstream_errors_do_not_show_them(
    make_gateway: Callable[..., Gw], kind: str
) -> None:
    gw = make_gateway(kind, upstream_url=f"http://ops:s3cret-pass@127.0.0.1:{closed_port()}")
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    for path in ("/v1/chat/completions", "/api/chat"):
        response = _post(gw, path, body)
        assert response.status_code == 502, response.text
        assert "s3cret-pass" not in response.text
        assert "127.0.0.1" in response.text  # still says which server failed


def test_when_answers_are_not_masked_then_the_redacted_audit_log_still_has_no_clear_pii(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream
) -> None:
    scripted.script.pieces = ["write to ", "bob.jones@example.com", " now"]
    gw = make_gateway("openai", upstream_url=scripted.url, pii={"enabled": True, "mask_answers": False})
    response = _post(gw, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert "bob.jones@example.com" in response.text  # the operator let answers through unmasked
    gw.stop()  # drains the audit writer
    logged = "".join(path.read_text() for path in gw.audit_dir.glob("audit-*.jsonl"))
    assert '"answer"' in logged
    assert "bob.jones@example.com" not in logged


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/chat/completions", {"logprobs": True, "top_logprobs": 2, "messages": [{"role": "user", "content": "hi"}]}),
    ("/api/chat", {"stream": False, "logprobs": True, "messages": [{"role": "user", "content": "hi"}]}),
])  # fmt: skip
@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_when_the_pii_guard_is_on_then_log_probs_are_not_asked_of_the_upstream(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, kind: str, path: str, body: dict[str, Any]
) -> None:
    """Log-probs carry token texts: they would reveal what masking removed."""
    gw = make_gateway(kind, upstream_url=scripted.url, pii={"enabled": True})
    response = _post(gw, path, {"model": MODEL, **body})
    assert response.status_code == 200, response.text
    assert scripted.script.requests
    assert "logprobs" not in scripted.script.bodies()


def test_when_the_pii_guard_is_off_then_log_probs_pass_through(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream
) -> None:
    gw = make_gateway("openai", upstream_url=scripted.url)
    body = {"model": MODEL, "logprobs": True, "messages": [{"role": "user", "content": "hi"}]}
    assert _post(gw, "/v1/chat/completions", body).status_code == 200
    assert '"logprobs": true' in scripted.script.bodies()


def test_when_an_ollama_generate_carries_token_id_context_then_it_is_refused(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream
) -> None:
    """Token ids bypass every text guard, like token-id prompts (which are refused too)."""
    gw = make_gateway("ollama", upstream_url=scripted.url)
    body = {"model": MODEL, "prompt": "hi", "stream": False, "context": [1, 2, 3]}
    response = _post(gw, "/api/generate", body)
    assert response.status_code == 400
    assert "context" in response.json()["error"]
    assert not scripted.script.requests


def _tool_call_upstream(arguments: str, refusal: str) -> Any:
    """A real OpenAI-compatible upstream whose answer is a tool call (no content) plus a refusal text."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.helpers.servers import AppServer

    async def chat(request: Request) -> JSONResponse:
        call = {"id": "c1", "type": "function", "function": {"name": "send_mail", "arguments": arguments}}
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": refusal}
        return JSONResponse({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        })  # fmt: skip

    return AppServer(Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])]))


def test_when_an_answer_is_a_tool_call_then_its_arguments_are_masked_and_restored_too(
    make_gateway: Callable[..., Gw],
) -> None:
    """Tool-call arguments and refusals are model-written text: the answer guards cover them."""
    new_email = "bob.jones@example.org"
    arguments = '{"to": "<EMAIL_ADDRESS_1>", "cc": "' + new_email + '"}'
    with _tool_call_upstream(arguments, f"I will not write to {new_email}") as upstream:
        gw = make_gateway("openai", upstream_url=upstream.url, pii={"enabled": True})
        body = {"model": MODEL, "messages": [{"role": "user", "content": f"Mail {EMAIL} please"}]}
        response = _post(gw, "/v1/chat/completions", body)
    assert response.status_code == 200, response.text
    message = response.json()["choices"][0]["message"]
    sent = message["tool_calls"][0]["function"]["arguments"]
    assert EMAIL in sent  # the caller's own value came back
    assert new_email not in sent and new_email not in message["refusal"]
    assert json.loads(sent)["to"] == EMAIL  # masking kept the arguments valid JSON


def _logged_tool_calls(gw: Gw) -> list[Any]:
    gw.stop()  # drains the audit writer
    files = sorted(gw.audit_dir.glob("audit-*.jsonl"))
    lines = [json.loads(line) for path in files for line in path.read_text().splitlines()]
    return [line["content"].get("tool_calls") for line in lines if line["content"]]


@pytest.mark.parametrize("pii", [True, False])
def test_when_an_answer_is_a_tool_call_then_the_audit_log_keeps_it_redacted(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, pii: bool
) -> None:
    """A tool call is what the model did: the log keeps its name and arguments, without clear personal data."""
    new_email = "bob.jones@example.org"
    arguments = '{"to": "<EMAIL_ADDRESS_1>", "cc": "' + new_email + '"}'
    settings = {"pii": {"enabled": True}} if pii else {}
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"Mail {EMAIL} please"}]}
    with _tool_call_upstream(arguments, "") as upstream:
        gw = make_gateway("openai", upstream_url=upstream.url, **settings)
        assert _post(gw, "/v1/chat/completions", body).status_code == 200
    head = {"index": 0, "id": "c1", "type": "function", "function": {"name": "send_mail", "arguments": ""}}
    scripted.script.deltas = [
        {"tool_calls": [head]},
        {"tool_calls": [{"index": 0, "function": {"arguments": arguments[:30]}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": arguments[30:]}}]},
    ]  # fmt: skip
    streamed = make_gateway("openai", upstream_url=scripted.url, **settings)
    assert _post(streamed, "/v1/chat/completions", {**body, "stream": True}).status_code == 200
    for logged in (_logged_tool_calls(gw), _logged_tool_calls(streamed)):
        assert len(logged) == 1 and len(logged[0]) == 1
        assert logged[0][0]["name"] == "send_mail"
        text = json.dumps(logged)
        assert new_email not in text and EMAIL not in text
        assert json.loads(logged[0][0]["arguments"])["to"].startswith("<EMAIL_ADDRESS")


def test_when_a_guard_acts_then_the_audit_entry_keeps_its_detail_without_content(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream
) -> None:
    gw = make_gateway("openai", upstream_url=scripted.url, pii={"enabled": True})
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"Mail {EMAIL} please"}]}
    assert _post(gw, "/v1/chat/completions", body).status_code == 200
    gw.stop()  # drains the audit writer
    text = "".join(path.read_text() for path in sorted(gw.audit_dir.glob("audit-*.jsonl")))
    [entry] = [json.loads(line) for line in text.splitlines()]
    redacted = {"guard": "pii", "action": "modify", "reason": "pii.redacted", "detail": "EMAIL_ADDRESS×1"}
    assert redacted in entry["decisions"]
    assert EMAIL not in text
