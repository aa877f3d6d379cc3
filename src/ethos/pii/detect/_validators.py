"""Checksums and structural checks that turn format matches into likely-real values."""

from __future__ import annotations

import hashlib
import ipaddress

__all__ = [
    "IBAN_LENGTHS",
    "base58check_ok",
    "bech32_ok",
    "iban_ok",
    "ip_ok",
    "luhn_ok",
    "us_ssn_ok",
]

# ISO 13616 registry (SWIFT IBAN registry), country → total length.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32)}


def luhn_ok(value: str) -> bool:
    """Luhn (mod-10) checksum over the digits of ``value`` (card numbers)."""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    """ISO 13616: known country, that country's length, and the mod-97 check equals 1."""
    iban = "".join(value.split()).upper()
    if len(iban) < 15 or IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def us_ssn_ok(value: str) -> bool:
    """Reject SSNs the SSA never issues: area 000, 666 or 9xx, group 00, serial 0000, one repeated digit."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) != 9 or len(set(digits)) == 1 or digits in {"123456789", "078051120", "219099999"}:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and not area.startswith("9") and group != "00" and serial != "0000"


def ip_ok(value: str) -> bool:
    """A syntactically valid IPv4 or IPv6 address (per :mod:`ipaddress`)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def base58check_ok(value: str) -> bool:
    """Bitcoin base58check: the last four bytes are the double-SHA-256 of the rest."""
    if not value or any(c not in _B58_INDEX for c in value):
        return False
    number = 0
    for c in value:
        number = number * 58 + _B58_INDEX[c]
    raw = number.to_bytes(25, "big") if number.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    payload, checksum = raw[:-4], raw[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= generator[i] if (top >> i) & 1 else 0
    return chk


def bech32_ok(value: str) -> bool:
    """BIP-173/350 checksum of a ``bc1…`` address (bech32 or bech32m)."""
    addr = value.lower()
    hrp, sep, data = addr.rpartition("1")
    if not sep or hrp != "bc" or len(data) < 6 or any(c not in _BECH32_INDEX for c in data):
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _bech32_polymod(expanded + [_BECH32_INDEX[c] for c in data]) in {1, 0x2BC830A3}
