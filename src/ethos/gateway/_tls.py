"""TLS for development: a self-signed certificate, and the fingerprint clients can pin.

``self_signed_cert`` writes ``cert.pem`` and ``key.pem`` (EC P-256, 0600) into a folder and reuses
them while they are valid for at least another day and name the same hosts, so a client that pinned
the fingerprint keeps working across restarts. For production, give a certificate from your CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ethos._util.atomic import atomic_write_bytes
from ethos.errors import ConfigError

__all__ = ["CERT_NAME", "KEY_NAME", "VALIDITY_DAYS", "fingerprint", "self_signed_cert"]

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
VALIDITY_DAYS = 90
_RENEW_BEFORE = dt.timedelta(days=1)
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


def self_signed_cert(directory: Path, hosts: Sequence[str] = DEFAULT_HOSTS) -> tuple[Path, Path]:
    """Return ``(cert, key)`` paths in ``directory``, writing a new pair unless a usable one is there.

    Args:
        directory: Where ``cert.pem`` and ``key.pem`` live (created with 0700 when missing).
        hosts: DNS names and IP addresses the certificate is valid for (its subject alternative names).

    Raises:
        ConfigError: The folder cannot be written.
    """
    from ethos._util.deps import require

    require("cryptography", extra="gateway", purpose="--tls-self-signed")
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if _reusable(cert_path, key_path, hosts):
        return cert_path, key_path
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_pem, key_pem = _generate(hosts)
        atomic_write_bytes(key_path, key_pem, perms=0o600)
        atomic_write_bytes(cert_path, cert_pem, perms=0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write a self-signed certificate into {directory}: {exc.strerror or exc}") from None
    return cert_path, key_path


def fingerprint(cert_path: Path) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as ``AB:CD:...`` (what ``openssl x509 -fingerprint`` prints)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{cert_path}: not a readable PEM certificate ({exc})") from None
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def _san_entries(hosts: Sequence[str]) -> list[Any]:
    from cryptography import x509

    entries: list[Any] = []
    for host in dict.fromkeys(h.strip("[]") for h in hosts):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _generate(hosts: Sequence[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ethos gateway ({hosts[0] if hosts else 'local'})")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _reusable(cert_path: Path, key_path: Path, hosts: Sequence[str]) -> bool:
    """Whether the pair exists, parses, matches, is valid for another day and names exactly ``hosts``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc - _RENEW_BEFORE:
        return False
    if key.public_key() != cert.public_key():
        return False
    return set(map(str, sans)) == set(map(str, _san_entries(hosts)))
