"""``Metrics``: series on a registry of its own, bounded labels, the Prometheus text format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ethos.gateway._metrics import DURATION_BUCKETS, MAX_LABEL_VALUES, Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render()
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_when_requests_are_observed_then_counts_and_histogram_follow() -> None:
    m = Metrics()
    m.observe_request("/v1/chat/completions", 200, 0.003)
    m.observe_request("/v1/chat/completions", 200, 0.2)
    m.observe_request("/v1/chat/completions", 429, 0.0005)
    s = samples(m)
    route = ("route", "/v1/chat/completions")
    assert s[("ethos_gateway_requests_total", (route, ("status", "200")))] == 2
    assert s[("ethos_gateway_requests_total", (route, ("status", "429")))] == 1
    assert s[("ethos_gateway_request_duration_seconds_count", (route,))] == 3
    assert s[("ethos_gateway_request_duration_seconds_bucket", (("le", "0.001"), route))] == 1
    assert s[("ethos_gateway_request_duration_seconds_bucket", (("le", "0.005"), route))] == 2
    assert s[("ethos_gateway_request_duration_seconds_bucket", (("le", "120.0"), route))] == 3
    assert abs(s[("ethos_gateway_request_duration_seconds_sum", (route,))] - 0.2035) < 1e-9


def test_when_buckets_are_listed_then_they_span_1ms_to_120s() -> None:
    assert DURATION_BUCKETS[0] == 0.001
    assert DURATION_BUCKETS[-1] == 120.0
    assert list(DURATION_BUCKETS) == sorted(DURATION_BUCKETS)


def test_when_every_recorder_is_used_then_every_family_shows_its_values() -> None:
    m = Metrics()
    m.observe_upstream("/api/chat", 0.05)
    m.upstream_error("timeout")
    m.blocked("limit.rate")
    m.blocked("limit.rate")
    m.redacted({"EMAIL_ADDRESS": 2, "PERSON": 0})
    m.tokens(prompt=11, completion=7)
    m.in_flight.inc()
    m.in_flight.inc()
    m.in_flight.dec()
    s = samples(m)
    assert s[("ethos_gateway_upstream_duration_seconds_count", (("route", "/api/chat"),))] == 1
    assert s[("ethos_gateway_upstream_errors_total", (("kind", "timeout"),))] == 1
    assert s[("ethos_gateway_upstream_errors_total", (("kind", "unreachable"),))] == 0  # pre-bound at 0
    assert s[("ethos_gateway_blocked_total", (("reason", "limit.rate"),))] == 2
    assert s[("ethos_gateway_redactions_total", (("entity", "EMAIL_ADDRESS"),))] == 2
    assert ("ethos_gateway_redactions_total", (("entity", "PERSON"),)) not in s
    assert s[("ethos_gateway_tokens_total", (("kind", "prompt"),))] == 11
    assert s[("ethos_gateway_tokens_total", (("kind", "completion"),))] == 7
    assert s[("ethos_gateway_in_flight", ())] == 1


def test_when_two_instances_exist_then_their_series_are_separate() -> None:
    a, b = Metrics(), Metrics()
    a.blocked("auth.missing_key")
    assert samples(a)[("ethos_gateway_blocked_total", (("reason", "auth.missing_key"),))] == 1
    assert ("ethos_gateway_blocked_total", (("reason", "auth.missing_key"),)) not in samples(b)


def test_when_a_label_takes_too_many_values_then_new_ones_fold_into_other() -> None:
    m = Metrics()
    for i in range(MAX_LABEL_VALUES + 5):
        m.observe_request(f"/route/{i}", 404, 0.001)
    m.observe_request("/route/0", 404, 0.001)
    s = samples(m)
    routes = {dict(labels)["route"] for name, labels in s if name == "ethos_gateway_requests_total"}
    assert len(routes) == MAX_LABEL_VALUES + 1
    assert s[("ethos_gateway_requests_total", (("route", "other"), ("status", "404")))] == 5
    assert s[("ethos_gateway_requests_total", (("route", "/route/0"), ("status", "404")))] == 2
    for i in range(1000):  # values past the bound must not pile up in the gateway's own cache either
        m.observe_request(f"/flood/{i}", 404, 0.001)
        m.blocked(f"flood.{i}")
    assert len(m._children) <= 2 * (MAX_LABEL_VALUES + 1)


def test_when_rendered_then_content_type_is_prometheus_text() -> None:
    body, content_type = Metrics().render()
    assert content_type.startswith("text/plain; version=")
    assert b"# TYPE ethos_gateway_in_flight gauge" in body
