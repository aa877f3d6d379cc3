"""Self-signed certificates: a real TLS handshake with them, reuse, renewal, pinning and file modes."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ethos.errors import ConfigError
from ethos.gateway._tls import VALIDITY_DAYS, fingerprint, self_signed_cert
from tests.helpers.servers import AppServer


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello over tls")


def tiny_app() -> Starlette:
    return Starlette(routes=[Route("/", hello)])


def test_when_a_client_trusts_the_cert_then_the_handshake_succeeds_and_the_fingerprint_matches(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path / "tls")
    context = ssl.create_default_context(cafile=str(cert))
    with AppServer(tiny_app(), certfile=cert, keyfile=key) as server:
        for host in ("localhost", "127.0.0.1"):
            conn = http.client.HTTPSConnection(host, server.port, context=context, timeout=10)
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"hello over tls"
            der = conn.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
            conn.close()
            pinned = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
            assert fingerprint(cert) == pinned


def test_when_a_client_does_not_trust_the_cert_then_verification_fails(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path / "tls")
    with AppServer(tiny_app(), certfile=cert, keyfile=key) as server:
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ssl.create_default_context(), timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError):
            conn.request("GET", "/")
        conn.close()


def test_when_the_host_is_not_in_the_cert_then_hostname_check_fails(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path / "tls", hosts=("gateway.internal",))
    context = ssl.create_default_context(cafile=str(cert))
    with AppServer(tiny_app(), certfile=cert, keyfile=key) as server:
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
            conn.request("GET", "/")
        conn.close()


def test_when_written_then_key_is_private_and_cert_names_the_hosts_for_90_days(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path / "tls", hosts=("localhost", "10.1.2.3"))
    assert key.stat().st_mode & 0o777 == 0o600
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in sans.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    days = (parsed.not_valid_after_utc - dt.datetime.now(dt.UTC)).days
    assert VALIDITY_DAYS - 1 <= days <= VALIDITY_DAYS


def test_when_called_again_with_the_same_hosts_then_the_pair_is_reused(tmp_path: Path) -> None:
    cert, _ = self_signed_cert(tmp_path)
    first = fingerprint(cert)
    self_signed_cert(tmp_path)
    assert fingerprint(cert) == first


def test_when_hosts_change_or_the_key_is_replaced_then_a_new_pair_is_written(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    first = fingerprint(cert)
    self_signed_cert(tmp_path, hosts=("localhost", "127.0.0.1", "::1", "example.internal"))
    second = fingerprint(cert)
    assert second != first
    key.write_text("not a key")
    self_signed_cert(tmp_path, hosts=("localhost", "127.0.0.1", "::1", "example.internal"))
    assert fingerprint(cert) != second


def test_when_the_cert_is_not_pem_then_fingerprint_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    with pytest.raises(ConfigError, match="bad.pem: not a readable PEM certificate"):
        fingerprint(bad)
