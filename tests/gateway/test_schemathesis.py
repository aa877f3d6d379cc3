"""schemathesis against the gateway's served OpenAPI document: no 5xx, no schema violations.

The gateway runs in front of the tiny-model server with answers capped at 4 tokens (so generated
requests stay fast) and only ``tiny-gpt2`` served; the key is an admin key without rate limits, so
every operation is reachable. Examples are derandomized (a fixed seed) and few.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.conftest import Gw, start_gateway
from tests.helpers.servers import LoopbackServer

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
FUZZ_KEYS = {"fuzz": {"admin": True, "requests_per_minute": 0, "tokens_per_minute": 0}}


@pytest.fixture(scope="module")
def fuzzed_gateway(loopback_server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gw]:
    """An openai-kind gateway serving only ``tiny-gpt2``, answers capped at 4 tokens."""
    home: Path = tmp_path_factory.mktemp("fuzz")
    gw = start_gateway(
        "openai",
        loopback_server.url,
        home,
        FUZZ_KEYS,
        upstream={"models": ["tiny-gpt2"]},
        policy={"max_answer_tokens": 4},
    )
    yield gw
    gw.stop()


@pytest.fixture
def api_schema(fuzzed_gateway: Gw) -> Any:
    """The gateway's own ``/openapi.json``, as schemathesis loads it over HTTP."""
    return schemathesis.openapi.from_url(fuzzed_gateway.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_when_schemathesis_fuzzes_the_openapi_operations_then_no_5xx_and_no_schema_violation(
    case: Any, fuzzed_gateway: Gw
) -> None:
    case.call_and_validate(headers=fuzzed_gateway.auth("fuzz"), checks=CHECKS, timeout=30)


def test_when_the_openapi_document_is_served_then_it_lists_every_route(fuzzed_gateway: Gw) -> None:
    import httpx

    document = httpx.get(fuzzed_gateway.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    expected = {
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/models",
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/api/tags",
        "/healthz",
    }
    assert expected <= paths
