"""The official ``ollama`` client through the gateway, in front of both upstream kinds.

The reference answers come from the same client talking to the tiny-model server's own Ollama API:
with the guards off the gateway must not change them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import ollama
import pytest

from tests.gateway.conftest import Gw
from tests.helpers.gateway import MESSAGES, MODEL, PROMPT
from tests.helpers.servers import LoopbackServer

OPTIONS = {"temperature": 0, "num_predict": 8, "seed": 0}


@pytest.fixture
def client(gw: Gw) -> Iterator[ollama.Client]:
    """The ollama client pointed at the gateway with an ordinary key."""
    with closing(ollama.Client(host=gw.url, headers=gw.auth("user"), timeout=30)) as c:
        yield c


@pytest.fixture
def direct(upstream: LoopbackServer) -> Iterator[ollama.Client]:
    """The ollama client pointed at the tiny-model server itself."""
    with closing(ollama.Client(host=upstream.url, timeout=30)) as c:
        yield c


def test_when_chat_goes_through_the_gateway_then_the_answer_equals_the_upstreams(
    client: ollama.Client, direct: ollama.Client
) -> None:
    expected = direct.chat(model=MODEL, messages=MESSAGES, options=OPTIONS)
    got = client.chat(model=MODEL, messages=MESSAGES, options=OPTIONS)
    assert expected.message.content
    assert got.message.content == expected.message.content
    assert got.message.role == "assistant"
    assert got.done is True
    assert got.done_reason == expected.done_reason


@pytest.mark.parametrize("route", ["chat", "generate"])
def test_when_an_answer_streams_through_the_gateway_then_the_joined_pieces_equal_the_upstreams_answer(
    client: ollama.Client, direct: ollama.Client, route: str
) -> None:
    if route == "chat":
        expected = direct.chat(model=MODEL, messages=MESSAGES, options=OPTIONS).message.content
        parts = list(client.chat(model=MODEL, messages=MESSAGES, options=OPTIONS, stream=True))
        pieces = [part.message.content or "" for part in parts]
    else:
        expected = direct.generate(model=MODEL, prompt=PROMPT, options=OPTIONS).response
        parts = list(client.generate(model=MODEL, prompt=PROMPT, options=OPTIONS, stream=True))
        pieces = [part.response or "" for part in parts]
    assert "".join(pieces) == expected
    assert len([p for p in pieces if p]) > 1  # streamed piece by piece, not buffered into one frame
    assert [part.done for part in parts].count(True) == 1
    assert parts[-1].done is True
    assert parts[-1].eval_count


def test_when_generate_goes_through_the_gateway_then_the_text_equals_the_upstreams(
    client: ollama.Client, direct: ollama.Client
) -> None:
    expected = direct.generate(model=MODEL, prompt=PROMPT, options=OPTIONS)
    got = client.generate(model=MODEL, prompt=PROMPT, options=OPTIONS)
    assert expected.response
    assert got.response == expected.response
    assert got.done is True


def test_when_a_raw_generate_goes_through_the_gateway_then_the_text_equals_the_upstreams(
    client: ollama.Client, direct: ollama.Client
) -> None:
    expected = direct.generate(model=MODEL, prompt=PROMPT, options=OPTIONS, raw=True)
    got = client.generate(model=MODEL, prompt=PROMPT, options=OPTIONS, raw=True)
    assert got.response == expected.response


def test_when_embed_goes_through_the_gateway_then_the_vectors_equal_the_upstreams(
    client: ollama.Client, direct: ollama.Client
) -> None:
    texts = ["The doctor reviewed the results.", "A quick brown fox."]
    expected = direct.embed(model=MODEL, input=texts)
    got = client.embed(model=MODEL, input=texts)
    assert len(got.embeddings) == 2
    for mine, theirs in zip(got.embeddings, expected.embeddings, strict=True):
        assert list(mine) == pytest.approx(list(theirs), rel=1e-6)


def test_when_models_are_listed_then_the_upstreams_model_is_there(client: ollama.Client, gw: Gw) -> None:
    names = [model.model for model in client.list().models]
    expected = "tiny-gpt2" if gw.kind == "openai" else "tiny-gpt2:latest"
    assert names == [expected]


def test_when_the_model_is_unknown_then_the_ollama_client_raises_a_response_error(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="no-such-model", messages=MESSAGES, options=OPTIONS)
    assert caught.value.status_code == 404



def test_when_an_empty_generate_goes_through_the_gateway_then_the_model_is_only_loaded(
    client: ollama.Client, gw: Gw
) -> None:
    """Ollama answers ``prompt: ""`` by loading the model; an OpenAI upstream must not generate instead."""
    got = client.generate(model=MODEL, prompt="")
    assert got.response == ""
    assert got.done is True
    if gw.kind == "openai":
        assert got.done_reason == "load"
