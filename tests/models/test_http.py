"""The shared HTTP plumbing: stream parsers, error parsing, field paths, retries, timeouts, pool."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from ethos.errors import MalformedResponseError, ServerResponseError, ServerUnreachableError
from ethos.models._http import (
    Field,
    HttpClient,
    RetryPolicy,
    _retry_after,
    _unreachable,
    error_message,
    iter_ndjson,
    iter_sse,
)
from tests.helpers.server_model import TinyLM
from tests.helpers.servers import ApiServer, LoopbackServer, closed_port

URL = "http://127.0.0.1:1/v1/chat/completions"


# -- SSE ---------------------------------------------------------------------------------------


def test_when_sse_has_comments_and_done_then_only_frames_before_done_are_yielded() -> None:
    lines = [
        ": ping",
        "",
        'data: {"a": 1}',
        "",
        ":keep-alive",
        'data: {"a": 2}',
        "",
        "data: [DONE]",
        "",
        'data: {"a": 3}',
    ]
    assert [f.value for f in iter_sse(lines, URL)] == [{"a": 1}, {"a": 2}]


def test_when_sse_data_spans_lines_then_they_are_joined() -> None:
    lines = ["event: message", "id: 7", 'data: {"a":', "data: 1}", ""]
    assert [f.value for f in iter_sse(lines, URL)] == [{"a": 1}]


def test_when_sse_stream_ends_without_blank_line_then_last_frame_is_kept() -> None:
    assert [f.value for f in iter_sse(['data: {"a": 1}'], URL)] == [{"a": 1}]


def test_when_sse_frame_has_no_space_after_colon_then_it_still_parses() -> None:
    assert [f.value for f in iter_sse(['data:{"a": 1}', "", "data:[DONE]", ""], URL)] == [{"a": 1}]


def test_when_sse_frame_is_an_error_object_then_server_response_error_names_url_and_message() -> None:
    lines = ['data: {"a": 1}', "", 'data: {"error": {"message": "boom", "code": 503}}', ""]
    frames = iter_sse(lines, URL)
    assert next(frames).value == {"a": 1}
    with pytest.raises(ServerResponseError, match="boom") as info:
        next(frames)
    assert info.value.status == 503
    assert URL in str(info.value)


def test_when_sse_error_has_no_http_code_then_status_is_500() -> None:
    with pytest.raises(ServerResponseError) as info:
        list(iter_sse(['data: {"error": {"message": "x", "code": "overloaded"}}', ""], URL))
    assert info.value.status == 500


def test_when_sse_frame_is_not_json_then_malformed_error() -> None:
    with pytest.raises(MalformedResponseError, match="SSE event 0.*not JSON"):
        list(iter_sse(["data: {oops", ""], URL))


# -- NDJSON ------------------------------------------------------------------------------------


def test_when_ndjson_has_blank_lines_then_they_are_skipped() -> None:
    assert [f.value for f in iter_ndjson(['{"a": 1}', "", "  ", '{"a": 2}'], URL)] == [{"a": 1}, {"a": 2}]


def test_when_ndjson_line_is_an_error_then_server_response_error_names_url() -> None:
    frames = iter_ndjson(['{"response": "Hi", "done": false}', '{"error": "model runner crashed"}'], URL)
    assert next(frames).value["response"] == "Hi"
    with pytest.raises(ServerResponseError, match="model runner crashed") as info:
        next(frames)
    assert URL in str(info.value) and "NDJSON line 1" in str(info.value)
    assert info.value.status == 500


def test_when_ndjson_line_is_not_json_then_malformed_error() -> None:
    with pytest.raises(MalformedResponseError, match="NDJSON line 0"):
        list(iter_ndjson(["not json"], URL))


# -- error bodies and fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text", "expected"),
    [
        pytest.param({"error": {"message": "bad key", "type": "x", "code": "y"}}, "", "bad key", id="openai-nested"),
        pytest.param({"object": "error", "message": "too long", "code": 400}, "", "too long", id="vllm-flat"),
        pytest.param({"error": {"code": 400, "message": "Only no echo is supported"}}, "", "Only no echo", id="llama"),
        pytest.param({"error": "model not found"}, "", "model not found", id="ollama"),
        pytest.param({"detail": "Not Found"}, "", "Not Found", id="fastapi"),
        pytest.param(None, "<html> Bad   Gateway </html>", "<html> Bad Gateway </html>", id="plain-text"),
        pytest.param(None, "", "no message", id="empty"),
    ],
)
def test_when_error_body_has_any_known_shape_then_its_message_is_found(body: object, text: str, expected: str) -> None:
    assert expected in error_message(body, text)


def test_when_field_is_missing_then_error_names_its_path_and_url() -> None:
    reply = Field({"choices": [{"logprobs": {"tokens": []}}]}, url=URL)
    with pytest.raises(MalformedResponseError, match=r"choices\[0\]\.logprobs\.text_offset is missing") as info:
        reply["choices"][0]["logprobs"]["text_offset"]
    assert URL in str(info.value)


@pytest.mark.parametrize(
    ("value", "call", "message"),
    [
        pytest.param({"n": "3"}, lambda f: f["n"].as_int(), "n should be an integer", id="str-as-int"),
        pytest.param({"n": True}, lambda f: f["n"].as_int(), "n should be an integer", id="bool-as-int"),
        pytest.param({"n": [1]}, lambda f: f["n"][1], r"n\[1\] is missing", id="index"),
        pytest.param({"n": {}}, lambda f: f["n"].as_list(), "n should be an array", id="list"),
        pytest.param([], lambda f: f["x"], "<root> should be an object", id="root"),
    ],
)
def test_when_field_has_wrong_type_then_error_names_it(value: object, call: object, message: str) -> None:
    with pytest.raises(MalformedResponseError, match=message):
        call(Field(value, url=URL))  # type: ignore[operator]


def test_when_integral_float_is_read_as_int_then_it_is_accepted() -> None:
    assert Field({"n": 3.0}, url=URL)["n"].as_int() == 3


def test_when_retry_after_is_a_date_then_it_becomes_seconds() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = _retry_after(httpx.Response(429, headers={"Retry-After": when}))
    assert seconds is not None and 25 <= seconds <= 30
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "2.5"})) == 2.5
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_when_host_name_does_not_resolve_then_message_says_so() -> None:
    error = _unreachable(URL, httpx.ConnectError("[Errno -2] Name or service not known"), 5)
    assert str(error).startswith(f"cannot reach {URL}: host name not found")


# -- against the loopback server ---------------------------------------------------------------


def test_when_server_answers_429_with_retry_after_then_client_retries_and_succeeds(openai_server: ApiServer) -> None:
    openai_server.set_faults(fail_first=2, fail_status=429, retry_after="0")
    with HttpClient(openai_server.base_url, retry=RetryPolicy(max_retries=3)) as client:
        reply = client.get_json("/models")
    assert reply["data"][0]["id"].as_str() == "tiny-gpt2"
    assert openai_server.paths() == ["/v1/models"] * 3


def test_when_retry_after_is_given_then_client_waits_that_long(openai_server: ApiServer) -> None:
    openai_server.set_faults(fail_first=1, fail_status=503, retry_after="1")
    client = HttpClient(openai_server.base_url, retry=RetryPolicy(max_retries=1, backoff=0.01))
    started = time.monotonic()
    client.get_json("/models")
    client.close()
    assert time.monotonic() - started >= 0.9


def test_when_503_has_no_retry_after_then_backoff_is_exponential_with_jitter(openai_server: ApiServer) -> None:
    openai_server.set_faults(fail_first=2, fail_status=503)
    client = HttpClient(openai_server.base_url, retry=RetryPolicy(max_retries=2, backoff=0.1))
    started = time.monotonic()
    client.get_json("/models")
    client.close()
    elapsed = time.monotonic() - started
    assert 0.1 * 0.5 + 0.2 * 0.5 <= elapsed < 1.5  # at least half of 0.1 + 0.2 s


def test_when_retries_are_exhausted_then_error_names_status_url_and_message(openai_server: ApiServer) -> None:
    openai_server.set_faults(fail_first=10, fail_status=503, retry_after="0")
    client = HttpClient(openai_server.base_url, retry=RetryPolicy(max_retries=2))
    with pytest.raises(ServerResponseError) as info:
        client.get_json("/models")
    client.close()
    assert info.value.status == 503
    message = str(info.value)
    assert f"{openai_server.base_url}/models answered HTTP 503 (after 3 attempts)" in message
    assert "Service temporarily unavailable" in message
    assert len(openai_server.requests) == 3


def test_when_status_is_not_transient_then_there_is_no_retry(openai_server: ApiServer) -> None:
    client = HttpClient(openai_server.base_url, retry=RetryPolicy(max_retries=3))
    with pytest.raises(ServerResponseError, match="does not exist") as info:
        client.post_json("/completions", {"model": "nope", "prompt": "x"})
    client.close()
    assert info.value.status == 404
    assert len(openai_server.requests) == 1


def test_when_nothing_listens_then_unreachable_error_names_url() -> None:
    port = closed_port()
    client = HttpClient(f"http://127.0.0.1:{port}/v1", retry=RetryPolicy(max_retries=1, backoff=0.01))
    with pytest.raises(ServerUnreachableError) as info:
        client.get_json("/models")
    client.close()
    assert str(info.value) == (
        f"cannot reach http://127.0.0.1:{port}/v1/models: connection refused; is the server running?"
    )


def test_when_server_is_slower_than_timeout_then_unreachable_error_says_timed_out(openai_server: ApiServer) -> None:
    openai_server.set_faults(delay=1.0)
    client = HttpClient(openai_server.base_url, timeout=0.2, retry=RetryPolicy(max_retries=3))
    started = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=r"no answer within 0.2 s \(timed out\)"):
        client.get_json("/models")
    client.close()
    assert time.monotonic() - started < 0.9  # a read timeout is not retried


def test_when_reply_is_not_json_then_malformed_error_names_url(openai_server: ApiServer) -> None:
    openai_server.set_faults(malformed="json")
    client = HttpClient(openai_server.base_url)
    with pytest.raises(MalformedResponseError, match=f"{openai_server.base_url}/models: not JSON"):
        client.get_json("/models")
    client.close()


def test_when_api_key_is_given_then_it_is_sent_as_bearer(openai_server: ApiServer) -> None:
    openai_server.set_faults(api_key="sk-test")
    client = HttpClient(openai_server.base_url, api_key="sk-test")
    client.get_json("/models")
    client.close()
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-test"


def test_when_streaming_sse_then_comments_are_skipped_and_done_ends_it(openai_server: ApiServer) -> None:
    openai_server.set_faults(sse_comments=True)
    body = {
        "model": "tiny-gpt2",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 3,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    client = HttpClient(openai_server.base_url)
    frames = list(client.stream_sse("/chat/completions", body))
    client.close()
    assert frames[0]["choices"][0]["delta"]["role"].as_str() == "assistant"
    assert frames[-2]["choices"][0]["finish_reason"].as_str() == "length"
    assert frames[-1]["usage"]["completion_tokens"].as_int() == 3


def test_when_sse_stream_breaks_with_error_event_then_server_response_error(openai_server: ApiServer) -> None:
    openai_server.set_faults(stream_error=True)
    body = {"model": "tiny-gpt2", "prompt": "The cat", "max_tokens": 5, "temperature": 0, "stream": True}
    client = HttpClient(openai_server.base_url)
    with pytest.raises(ServerResponseError, match="injected failure mid-stream") as info:
        list(client.stream_sse("/completions", body))
    client.close()
    assert f"{openai_server.base_url}/completions" in str(info.value)


def test_when_stream_is_refused_with_503_then_it_is_retried(ollama_server: ApiServer) -> None:
    ollama_server.set_faults(fail_first=1, retry_after="0")
    body = {"model": "tiny-gpt2", "prompt": "The cat", "raw": True, "options": {"num_predict": 2, "temperature": 0}}
    client = HttpClient(ollama_server.base_url)
    lines = list(client.stream_ndjson("/api/generate", body))
    client.close()
    assert lines[-1]["done"].as_bool()
    assert ollama_server.paths() == ["/api/generate"] * 2


def test_when_mapping_on_the_pool_then_results_keep_order_and_run_concurrently(openai_server: ApiServer) -> None:
    openai_server.set_faults(delay=0.3)
    client = HttpClient(openai_server.base_url, concurrency=4)
    started = time.monotonic()
    ids = client.map(lambda i: (i, client.get_json("/models")["object"].as_str()), list(range(4)))
    elapsed = time.monotonic() - started
    client.close()
    assert ids == [(i, "list") for i in range(4)]
    assert elapsed < 1.0  # four 0.3 s requests, in parallel


def test_when_one_mapped_call_fails_then_its_error_is_raised() -> None:
    client = HttpClient("http://127.0.0.1:1", concurrency=3)

    def call(i: int) -> int:
        if i == 2:
            raise ValueError("item 2")
        return i

    with pytest.raises(ValueError, match="item 2"):
        client.map(call, [0, 1, 2, 3])
    assert client.map(call, [0, 1]) == [0, 1]
    client.close()


def test_when_server_speaks_tls_with_a_private_ca_then_ssl_cert_file_makes_it_trusted(
    tiny_lm: TinyLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(certfile))
    leaf.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    with LoopbackServer(tiny_lm, certfile=certfile, keyfile=keyfile) as server:
        assert server.url.startswith("https://")
        untrusting = HttpClient(server.openai_url, retry=RetryPolicy(max_retries=2))
        with pytest.raises(ServerUnreachableError, match="TLS failed .*set SSL_CERT_FILE"):
            untrusting.get_json("/models")
        untrusting.close()
        assert server.requests == []  # refused before any request, and not retried
        monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
        with HttpClient(server.openai_url, retry=RetryPolicy(max_retries=0)) as client:
            assert client.get_json("/models")["data"][0]["id"].as_str() == "tiny-gpt2"


def test_when_reply_is_scripted_then_the_stream_spells_it_in_several_chunks(openai_server: ApiServer) -> None:
    openai_server.set_faults(reply="Mail jane.doe@example.com now", token_delay=0.02)
    body = {"model": "tiny-gpt2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50, "stream": True}
    with HttpClient(openai_server.base_url) as client:
        started = time.monotonic()
        frames = client.stream_sse("/chat/completions", body)
        next(frames)  # the role chunk comes at once
        first = time.monotonic() - started
        pieces = [f["choices"][0]["delta"].value.get("content", "") for f in frames]
        total = time.monotonic() - started
    assert "".join(pieces) == "Mail jane.doe@example.com now"
    assert len([p for p in pieces if p]) > 3
    assert first < total and total >= 0.02 * 3
