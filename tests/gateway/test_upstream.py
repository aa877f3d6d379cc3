"""The upstream client against the real loopback model server, through both wire formats.

Every test sends what ``encode_request`` builds to the real server (OpenAI and Ollama routes over a
tiny model), decodes the reply with ``decode_response``/``decode_stream``, and encodes it for a
caller of either format: the bodies are the ones real servers accept and send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from ethos.errors import ServerResponseError, ServerTimeoutError, ServerUnreachableError
from ethos.gateway import _wire as wire
from ethos.gateway._config import UpstreamConfig
from ethos.gateway._upstream import Upstream
from tests.helpers.servers import ApiServer, LoopbackServer, closed_port

T = TypeVar("T")
CALLERS = ("openai", "ollama")
CALLER_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("openai", "chat"): {"model": "pub", "messages": [{"role": "user", "content": "The nurse said"}], "max_tokens": 5},
    ("ollama", "chat"): {"model": "pub", "messages": [{"role": "user", "content": "The nurse said"}], "stream": False,
                         "options": {"num_predict": 5, "temperature": 0}},
    ("openai", "completion"): {"model": "pub", "prompt": "The nurse said", "max_tokens": 5, "temperature": 0},
    ("ollama", "completion"): {"model": "pub", "prompt": "The nurse said", "stream": False, "raw": True,
                               "options": {"num_predict": 5, "temperature": 0}},
    ("openai", "embedding"): {"model": "pub", "input": ["a cat", "a dog"]},
    ("ollama", "embedding"): {"model": "pub", "input": ["a cat", "a dog"]},
}  # fmt: skip


def run(make: Callable[[Upstream], Awaitable[T]], upstream: Upstream) -> T:
    async def go() -> T:
        await upstream.start()
        try:
            return await make(upstream)
        finally:
            await upstream.close()

    return asyncio.run(go())


def client(server: ApiServer, **settings: Any) -> Upstream:
    return Upstream(UpstreamConfig(kind=server.api, url=server.url, **settings))  # type: ignore[arg-type]


@pytest.fixture(params=["openai", "ollama"])
def upstream_server(request: pytest.FixtureRequest, loopback_server: LoopbackServer) -> ApiServer:
    loopback_server.reset()
    request.addfinalizer(loopback_server.reset)
    return ApiServer(loopback_server, request.param)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ["chat", "completion", "embedding"])
def test_when_a_request_is_translated_then_the_real_server_accepts_it_and_the_answer_translates_back(
    upstream_server: ApiServer, caller: Any, endpoint: Any
) -> None:
    canonical = wire.decode_request(caller, endpoint, dict(CALLER_BODIES[caller, endpoint]))
    path, body = wire.encode_request(upstream_server.api, endpoint, canonical, upstream_server.model)  # type: ignore[arg-type]
    reply = run(lambda up: up.request("POST", path, body), client(upstream_server))
    assert reply.status == 200, reply.body
    answer = wire.decode_response(upstream_server.api, endpoint, reply.body)  # type: ignore[arg-type]
    out = wire.encode_response(caller, endpoint, answer, "pub")
    if endpoint == "embedding":
        vectors = [d["embedding"] for d in out["data"]] if caller == "openai" else out["embeddings"]
        assert len(vectors) == 2 and len(vectors[0]) > 1 and vectors[0] != vectors[1]
        return
    texts = wire.answer_texts(endpoint, answer)
    assert len(texts) == 1 and texts[0]
    assert answer["usage"]["completion_tokens"] >= 1
    if caller == "openai":
        assert out["model"] == "pub" and "x_ollama" not in out
        got = out["choices"][0]["message"]["content"] if endpoint == "chat" else out["choices"][0]["text"]
    else:
        assert out["done"] is True and out["eval_count"] == answer["usage"]["completion_tokens"]
        got = out["message"]["content"] if endpoint == "chat" else out["response"]
    assert got == texts[0]


@pytest.mark.parametrize("endpoint", ["chat", "completion"])
def test_when_a_stream_is_read_then_its_text_equals_the_non_streamed_answer(
    upstream_server: ApiServer, endpoint: Any
) -> None:
    kind: Any = upstream_server.api
    canonical = wire.decode_request("openai", endpoint, dict(CALLER_BODIES["openai", endpoint]))
    whole = run(lambda up: up.request("POST", *wire.encode_request(kind, endpoint, canonical, upstream_server.model)),
                client(upstream_server))  # fmt: skip
    expected = wire.answer_texts(endpoint, wire.decode_response(kind, endpoint, whole.body))[0]

    async def stream(up: Upstream) -> list[dict[str, Any]]:
        path, body = wire.encode_request(kind, endpoint, {**canonical, "stream": True}, upstream_server.model)
        opened = await up.stream(path, body)
        assert opened.status == 200
        try:
            return [chunk async for chunk in opened.events(endpoint)]
        finally:
            await opened.aclose()

    chunks = run(stream, client(upstream_server))
    assert "".join(t for c in chunks for _, t, _ in wire.chunk_texts(c)) == expected
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1


def test_when_models_are_listed_then_names_translate_between_formats(upstream_server: ApiServer) -> None:
    kind: Any = upstream_server.api
    path = "/v1/models" if kind == "openai" else "/api/tags"
    reply = run(lambda up: up.request("GET", path), client(upstream_server))
    names = wire.decode_models(kind, reply.body)
    assert names == [upstream_server.model]
    same = wire.encode_models(kind, names, reply.body)
    assert same == reply.body
    other: Any = "ollama" if kind == "openai" else "openai"
    assert wire.decode_models(other, wire.encode_models(other, names, None)) == names


def test_when_the_stream_breaks_in_band_then_events_raise(upstream_server: ApiServer) -> None:
    upstream_server.set_faults(stream_error=True)
    kind: Any = upstream_server.api
    canonical = wire.decode_request("openai", "chat", {**CALLER_BODIES["openai", "chat"], "stream": True})

    async def stream(up: Upstream) -> None:
        opened = await up.stream(*wire.encode_request(kind, "chat", canonical, upstream_server.model))
        try:
            async for _ in opened.events("chat"):
                pass
        finally:
            await opened.aclose()

    with pytest.raises(ServerResponseError, match="failed mid-stream"):
        run(stream, client(upstream_server))


def test_when_the_upstream_is_slow_then_request_raises_timeout(openai_server: ApiServer) -> None:
    openai_server.set_faults(delay=1.0)
    with pytest.raises(ServerTimeoutError, match="did not answer within 0.2 s"):
        run(lambda up: up.request("GET", "/v1/models"), client(openai_server, timeout_s=0.2))


def test_when_nothing_listens_then_request_raises_unreachable_naming_the_url() -> None:
    port = closed_port()
    upstream = Upstream(UpstreamConfig(kind="ollama", url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ServerUnreachableError, match=f"127.0.0.1:{port}/api/tags") as info:
        run(lambda up: up.request("GET", "/api/tags"), upstream)
    assert not isinstance(info.value, ServerTimeoutError)


def test_when_api_key_env_is_set_then_the_upstream_gets_the_bearer_key(
    openai_server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_server.set_faults(api_key="upstream-secret")
    denied = run(lambda up: up.request("GET", "/v1/models"), client(openai_server))
    assert denied.status == 401 and denied.body["error"]["message"] == "Incorrect API key provided"
    monkeypatch.setenv("ETHOS_TEST_UPSTREAM_KEY", "upstream-secret")
    allowed = run(
        lambda up: up.request("GET", "/v1/models"), client(openai_server, api_key_env="ETHOS_TEST_UPSTREAM_KEY")
    )
    assert allowed.status == 200


def test_when_a_streamed_request_is_refused_then_read_error_gives_the_body(ollama_server: ApiServer) -> None:
    async def stream(up: Upstream) -> tuple[int, Any]:
        opened = await up.stream("/api/chat", {"model": "no-such-model", "messages": []})
        try:
            return opened.status, await opened.read_error()
        finally:
            await opened.aclose()

    status, body = run(stream, client(ollama_server))
    assert status == 404 and "not found" in body["error"]


def test_when_raw_passes_a_request_through_then_status_and_body_are_relayed(ollama_server: ApiServer) -> None:
    async def show(up: Upstream) -> tuple[int, bytes]:
        status, _, chunks = await up.raw(
            "POST", "/api/show", b'{"model": "tiny-gpt2"}', {"content-type": "application/json"}
        )
        return status, b"".join([chunk async for chunk in chunks])

    status, body = run(show, client(ollama_server))
    assert status == 200 and b'"gpt2"' in body
