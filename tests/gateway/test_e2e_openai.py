"""The official ``openai`` client through the gateway, in front of both upstream kinds.

With the guards off the gateway must not change answers: greedy decoding is deterministic, so what
the client gets through the gateway equals what the same client gets from the tiny-model server
directly (its OpenAI API).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import openai
import pytest

from tests.gateway.conftest import Gw
from tests.helpers.gateway import MESSAGES, MODEL, PROMPT
from tests.helpers.servers import LoopbackServer

SETTINGS = {"max_tokens": 8, "temperature": 0, "seed": 0}


@pytest.fixture
def client(gw: Gw) -> Iterator[openai.OpenAI]:
    """The openai client pointed at the gateway with an ordinary key."""
    with openai.OpenAI(base_url=gw.openai_url, api_key=gw.tokens["user"], max_retries=0, timeout=30) as c:
        yield c


@pytest.fixture
def direct(upstream: LoopbackServer) -> Iterator[openai.OpenAI]:
    """The openai client pointed at the tiny-model server itself (the reference answers)."""
    with openai.OpenAI(base_url=upstream.openai_url, api_key="unused", max_retries=0, timeout=30) as c:
        yield c


def test_when_chat_goes_through_the_gateway_then_the_answer_equals_the_upstreams(
    client: openai.OpenAI, direct: openai.OpenAI
) -> None:
    expected = direct.chat.completions.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
    got = client.chat.completions.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
    assert expected.choices[0].message.content
    assert got.choices[0].message.content == expected.choices[0].message.content
    assert got.choices[0].message.role == "assistant"
    assert got.choices[0].finish_reason == expected.choices[0].finish_reason
    assert got.model == MODEL


def test_when_chat_streams_through_the_gateway_then_the_joined_deltas_equal_the_upstreams_answer(
    client: openai.OpenAI, direct: openai.OpenAI
) -> None:
    expected = direct.chat.completions.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
        **SETTINGS,  # type: ignore[arg-type]
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
    assert "".join(pieces) == expected.choices[0].message.content
    assert len([p for p in pieces if p]) > 1  # it really streamed, piece by piece
    assert finish == expected.choices[0].finish_reason
    assert usage is not None and usage.completion_tokens > 0


def test_when_completion_goes_through_the_gateway_then_the_text_equals_the_upstreams(
    client: openai.OpenAI, direct: openai.OpenAI
) -> None:
    expected = direct.completions.create(model=MODEL, prompt=PROMPT, **SETTINGS)  # type: ignore[arg-type]
    got = client.completions.create(model=MODEL, prompt=PROMPT, **SETTINGS)  # type: ignore[arg-type]
    assert expected.choices[0].text
    assert got.choices[0].text == expected.choices[0].text
    assert got.object == "text_completion"


def test_when_completion_streams_through_the_gateway_then_the_joined_text_equals_the_upstreams(
    client: openai.OpenAI, direct: openai.OpenAI
) -> None:
    expected = direct.completions.create(model=MODEL, prompt=PROMPT, **SETTINGS)  # type: ignore[arg-type]
    stream = client.completions.create(model=MODEL, prompt=PROMPT, stream=True, **SETTINGS)  # type: ignore[arg-type]
    text = "".join(choice.text for chunk in stream for choice in chunk.choices)
    assert text == expected.choices[0].text


def test_when_embeddings_go_through_the_gateway_then_the_vectors_equal_the_upstreams(
    client: openai.OpenAI, direct: openai.OpenAI
) -> None:
    texts = ["The doctor reviewed the results.", "A quick brown fox."]
    expected = direct.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    got = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    assert [d.index for d in got.data] == [0, 1]
    assert len(got.data) == len(expected.data)
    for mine, theirs in zip(got.data, expected.data, strict=True):
        assert mine.embedding == pytest.approx(theirs.embedding, rel=1e-6)


def test_when_models_are_listed_then_the_upstreams_model_is_there(client: openai.OpenAI, gw: Gw) -> None:
    ids = [model.id for model in client.models.list()]
    expected = "tiny-gpt2" if gw.kind == "openai" else "tiny-gpt2:latest"
    assert ids == [expected]


def test_when_a_request_succeeds_then_the_gateway_adds_its_request_id_and_overhead_headers(
    client: openai.OpenAI,
) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
    request_id = raw.headers["x-request-id"]
    assert len(request_id) >= 16
    assert float(raw.headers["x-ethos-overhead-ms"]) >= 0.0
    again = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
    assert again.headers["x-request-id"] != request_id


def test_when_a_disclaimer_is_configured_then_the_client_gets_it_and_the_upstream_gets_the_system_prompt(
    make_gateway: Callable[..., Gw], upstream: LoopbackServer
) -> None:
    text = "You are talking to an AI system."
    gw = make_gateway("ollama", disclaimer={"text": text, "system_prompt": True, "response_field": True})
    with openai.OpenAI(base_url=gw.openai_url, api_key=gw.tokens["user"], max_retries=0) as client:
        reply = client.chat.completions.create(model=MODEL, messages=MESSAGES, **SETTINGS)  # type: ignore[arg-type]
        stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **SETTINGS)  # type: ignore[arg-type]
        streamed = [chunk.model_extra.get("x_ethos") for chunk in stream if chunk.model_extra]
    assert (reply.model_extra or {})["x_ethos"]["disclaimer"] == text
    assert {"disclaimer": text} in streamed
    systems = [m["content"] for r in upstream.requests for m in r.body["messages"] if m["role"] == "system"]
    assert systems and all(s.startswith(text) for s in systems)
