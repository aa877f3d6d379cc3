"""Operations end to end: /healthz, /metrics, /openapi.json, graceful shutdown and content-free logs."""

from __future__ import annotations

import io
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import ollama
import pytest

from tests.gateway.conftest import Gw
from tests.helpers.gateway import MODEL, ScriptedUpstream
from tests.helpers.servers import LoopbackServer

SECRET_WORDS = "zanzibar marmalade protocol"
EMAIL = "olga.petrova@acme.org"


def test_when_healthz_is_asked_then_it_answers_without_a_key(gw: Gw) -> None:
    response = httpx.get(gw.url + "/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_when_openapi_is_asked_then_a_json_document_is_served(gw: Gw) -> None:
    response = httpx.get(gw.url + "/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "/v1/chat/completions" in response.json()["paths"]


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_when_requests_are_served_and_refused_then_metrics_count_them_by_route_status_and_reason(
    gw: Gw, upstream: LoopbackServer
) -> None:
    def metrics() -> str:
        return httpx.get(gw.url + "/metrics", headers=gw.auth("admin")).text

    before = metrics()
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "temperature": 0}
    assert httpx.post(gw.url + "/v1/chat/completions", json=body, headers=gw.auth("user")).status_code == 200
    assert httpx.post(gw.url + "/v1/chat/completions", json=body).status_code == 401
    after = metrics()
    route = {"route": "/v1/chat/completions"}
    ok = "ethos_gateway_requests_total"
    assert _metric(after, ok, **route, status="200") == _metric(before, ok, **route, status="200") + 1
    assert _metric(after, ok, **route, status="401") == _metric(before, ok, **route, status="401") + 1
    assert "ethos_gateway_request_duration_seconds_bucket" in after
    assert "auth.missing_key" in after
    # Both answers waited on the upstream once, streamed or not.
    waited = "ethos_gateway_upstream_duration_seconds_count"
    streamed = {**body, "stream": True}
    assert httpx.post(gw.url + "/v1/chat/completions", json=streamed, headers=gw.auth("user")).status_code == 200
    assert _metric(metrics(), waited, **route) == _metric(before, waited, **route) + 2


# -- graceful shutdown ----------------------------------------------------------------------------


def test_when_the_gateway_stops_during_a_stream_then_the_stream_finishes(
    make_gateway: Callable[..., Gw], upstream: LoopbackServer
) -> None:
    gw = make_gateway("openai", server={"graceful_timeout_s": 10})
    upstream.faults.token_delay = 0.05
    body = {"model": MODEL, "messages": [{"role": "user", "content": "The nurse"}], "max_tokens": 12}
    body |= {"temperature": 0, "stream": True}
    expected = httpx.post(upstream.openai_url + "/chat/completions", json={**body, "stream": False}).json()
    stopper: threading.Thread | None = None
    texts: list[str] = []
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=gw.auth("user"), timeout=20) as r:
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            if stopper is None:  # the first frame is out: now ask the server to stop
                stopper = gw.server.begin_stop()
            if line != "data: [DONE]":
                texts += [c["delta"].get("content") or "" for c in json.loads(line[6:])["choices"]]
            else:
                texts.append("[DONE]")
    assert stopper is not None
    stopper.join(timeout=15)
    gw.stopped = True
    assert not stopper.is_alive()
    assert texts[-1] == "[DONE]"
    assert "".join(texts[:-1]) == expected["choices"][0]["message"]["content"]
    with pytest.raises(httpx.TransportError):
        httpx.get(gw.url + "/healthz", timeout=2)


# -- structured logs ------------------------------------------------------------------------------


@pytest.fixture
def gateway_log() -> Iterator[io.StringIO]:
    """The gateway logger's lines, as the JSON formatter writes them."""
    from ethos.gateway._logging import LOGGER_NAME, JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_when_requests_are_logged_then_each_is_one_json_line_without_prompt_or_answer(
    gw: Gw, upstream: LoopbackServer, gateway_log: io.StringIO
) -> None:
    prompt = f"Tell {EMAIL} about the {SECRET_WORDS}"
    chat = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": 4, "temperature": 0}
    assert httpx.post(gw.url + "/v1/chat/completions", json=chat, headers=gw.auth("user")).status_code == 200
    streamed = {"model": MODEL, "prompt": prompt, "stream": True, "options": {"num_predict": 4, "temperature": 0}}
    assert httpx.post(gw.url + "/api/generate", json=streamed, headers=gw.auth("user")).status_code == 200
    assert (
        httpx.post(gw.url + "/api/generate", json={**streamed, "model": 3}, headers=gw.auth("user")).status_code == 400
    )
    lines = [json.loads(line) for line in gateway_log.getvalue().splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    assert [line["status"] for line in requests] == [200, 200, 400]
    assert all(len(line["request_id"]) >= 16 and line["level"] == "info" for line in requests)
    text = gateway_log.getvalue()
    for secret in (EMAIL, "zanzibar", "marmalade", gw.tokens["user"]):
        assert secret not in text


def test_when_an_answer_is_logged_then_its_text_is_not_in_the_log_line(
    make_gateway: Callable[..., Gw], scripted: ScriptedUpstream, gateway_log: io.StringIO
) -> None:
    scripted.script.pieces = ["The quetzal ", "nests in the volcano."]
    gw = make_gateway("openai", upstream_url=scripted.url)
    for stream in (False, True):
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
        response = httpx.post(gw.url + "/v1/chat/completions", json=body, headers=gw.auth("user"))
        assert "quetzal" in response.text  # the caller got the answer ...
    requests = [json.loads(line) for line in gateway_log.getvalue().splitlines()]
    assert [line["status"] for line in requests if line["event"] == "request"] == [200, 200]
    assert "quetzal" not in gateway_log.getvalue() and "volcano" not in gateway_log.getvalue()  # ... the log did not


# -- TLS and disconnects --------------------------------------------------------------------------


def test_when_the_gateway_serves_tls_then_clients_that_trust_its_certificate_talk_to_it(
    make_gateway: Callable[..., Gw], tmp_path: Path
) -> None:
    from ethos.gateway._tls import self_signed_cert

    cert, key = self_signed_cert(tmp_path / "tls")
    gw = make_gateway("ollama", tls=(cert, key))
    assert gw.url.startswith("https://")
    trusted = ssl.create_default_context(cafile=str(cert))
    with closing(ollama.Client(host=gw.url, headers=gw.auth("user"), verify=trusted, timeout=20)) as client:
        reply = client.generate(model=MODEL, prompt="The nurse", options={"num_predict": 3, "temperature": 0})
    assert reply.done is True
    with pytest.raises(httpx.ConnectError):  # a client without the certificate refuses the connection
        httpx.get(gw.url + "/healthz")


def test_when_a_client_disconnects_mid_stream_then_its_concurrency_slot_is_given_back(
    make_gateway: Callable[..., Gw], upstream: LoopbackServer
) -> None:
    gw = make_gateway("openai", keys={"one": {"max_parallel": 1}})
    headers = {"Authorization": f"Bearer {gw.tokens['one']}"}
    upstream.faults.token_delay = 0.2
    body = {"model": MODEL, "messages": [{"role": "user", "content": "The nurse"}], "max_tokens": 40}
    body |= {"temperature": 0, "stream": True}
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=20) as r:
        next(line for line in r.iter_lines() if line.startswith("data: "))
    # The caller hung up after the first frame; the upstream would go on for seconds.
    upstream.faults.token_delay = 0.0
    quick = {**body, "stream": False, "max_tokens": 2}
    started = time.monotonic()
    while (status := httpx.post(gw.url + "/v1/chat/completions", json=quick, headers=headers).status_code) == 429:
        assert time.monotonic() - started < 3.0, "the slot of the abandoned stream was never given back"
        time.sleep(0.05)
    assert status == 200
