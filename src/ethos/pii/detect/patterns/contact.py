"""E-mail addresses, URLs and IP addresses."""

from __future__ import annotations

import re

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer
from ethos.pii.detect._validators import ip_ok

__all__ = ["EmailRecognizer", "IpRecognizer", "UrlRecognizer"]

_TLD = r"[A-Za-z]{2,24}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+{_TLD}"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"


@recognizer("email")
class EmailRecognizer(PatternRecognizer):
    """RFC 5322 "dot-atom" addresses with a alphabetic top-level domain (no network look-up)."""

    entity = "EMAIL_ADDRESS"
    patterns = (
        Pattern("email", rf"(?<![\w.+-]){_ATOM}(?:\.{_ATOM})*@{_HOST}\b", 0.9),
    )
    context = ("email", "e-mail", "mail", "contact")
    required = ("@",)


@recognizer("url")
class UrlRecognizer(PatternRecognizer):
    """URLs with a scheme or ``www.``, and bare domains with a path; not e-mail domains."""

    entity = "URL"
    patterns = (
        Pattern("url with scheme", r"\b(?:https?|ftp)://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]", 0.85, re.IGNORECASE),
        Pattern("www url", rf"(?<![\w@.])www\.{_HOST}(?:[/?#][^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}}])?", 0.7,
                re.IGNORECASE),
        Pattern("domain with path", rf"(?<![\w@./])(?:{_LABEL}\.)+(?:com|org|net|io|info|biz|edu|gov|co|de|uk|fr)"
                r"/[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]", 0.5),
    )
    context = ("url", "website", "site", "link", "page", "visit", "profile", "blog", "homepage")
    required = ("http", "www", "/", "HTTP", "WWW")


_V4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_H = r"[0-9A-Fa-f]{1,4}"
_V6 = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}|:(?::{_H}){{1,7}}|::)"
)


@recognizer("ip")
class IpRecognizer(PatternRecognizer):
    """IPv4 (not inside a longer dotted number such as a version string) and IPv6, checked by ``ipaddress``."""

    entity = "IP_ADDRESS"
    patterns = (
        Pattern("ipv4", rf"(?<![\w.]){_V4}(?![\w]|\.\d)", 0.6),
        Pattern("ipv6", rf"(?<![\w:.]){_V6}(?![\w:])", 0.6),
    )
    context = ("ip", "address", "host", "server", "client", "connection", "login", "from")
    required = (".", ":")
    validated_score = 0.6

    def validate(self, value: str) -> bool | None:
        """Keep only addresses :mod:`ipaddress` accepts; IPv6 needs at least two colons."""
        if ":" in value and (value.count(":") < 2 or len(value) < 3):
            return False
        return ip_ok(value)
