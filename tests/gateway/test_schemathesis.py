"""schemathesis against the gateway's served OpenAPI document: no 5xx, no schema violations.

The gateway runs in front of the tiny-model server with answers capped at 4 tokens (so generated
requests stay fast) and only ``tiny-gpt2`` served; the key is an admin key without rate limits, so
every operation is reachable. Examples are derandomized (a fixed seed) and few.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.conftest import Gw, start_gateway
from tests.helpers.servers import LoopbackServer

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
MAX_EXAMPLES = 12
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


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], statuses: Counter[int]) -> str | None:
    """Run the checks on derandomized examples of one operation; the failure text, or ``None``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        statuses[case.call_and_validate(headers=headers, checks=CHECKS, timeout=30).status_code] += 1

    try:
        run()
    except Unsatisfiable:  # nothing to break: an operation without parameters or body (GET /healthz)
        return None
    except Exception as exc:  # noqa: BLE001 - every failure is collected and reported together
        return f"{operation.label} ({mode.value}): {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_when_schemathesis_fuzzes_the_openapi_operations_then_no_5xx_and_no_schema_violation(
    fuzzed_gateway: Gw, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(fuzzed_gateway.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    statuses: Counter[int] = Counter()
    failures = [_fuzz(op, mode, fuzzed_gateway.auth("fuzz"), statuses) for op in operations]
    found = [failure for failure in failures if failure]
    assert not found, "\n\n".join(found)
    # The fuzzing reached the model (positive) and the validation (negative), not just the doors.
    if mode == GenerationMode.POSITIVE:
        assert statuses[200] >= len(operations)
    else:
        assert statuses[400] + statuses[422] >= MAX_EXAMPLES


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
