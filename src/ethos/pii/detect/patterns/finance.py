"""Payment cards (Luhn), IBANs (mod-97) and crypto wallets (base58check, bech32, Ethereum)."""

from __future__ import annotations

import re

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer
from ethos.pii.detect._validators import base58check_ok, bech32_ok, iban_ok, luhn_ok
from ethos.types import Span

__all__ = ["CreditCardRecognizer", "CryptoRecognizer", "IbanRecognizer"]

_SEP = r"[ \-]?"


@recognizer("credit_card")
class CreditCardRecognizer(PatternRecognizer):
    """Visa, Mastercard, Amex, Discover, Diners, JCB, Maestro/UnionPay numbers; Luhn must pass (then 1.0)."""

    entity = "CREDIT_CARD"
    patterns = (
        Pattern("4-4-4-4 grouping", rf"(?<![\d\-])(?:4\d{{3}}|5[1-5]\d{{2}}|2[2-7]\d{{2}}|6(?:011|5\d\d|2\d\d)|35\d\d)"
                rf"(?:{_SEP}\d{{4}}){{3}}(?:{_SEP}\d{{1,3}})?(?![\d\-])", 0.5),
        Pattern("amex 4-6-5", rf"(?<![\d\-])3[47]\d\d{_SEP}\d{{6}}{_SEP}\d{{5}}(?![\d\-])", 0.5),
        Pattern("diners 4-6-4", rf"(?<![\d\-])3(?:0[0-5]|[68]\d)\d{_SEP}\d{{6}}{_SEP}\d{{4}}(?![\d\-])", 0.5),
        Pattern("compact 13-19 digits", r"(?<![\d\-])(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2[2-7]\d{14}|3[47]\d{13}"
                r"|3(?:0[0-5]|[68]\d)\d{11}|6(?:011|5\d\d)\d{12}|35\d{14}|62\d{14,17})(?![\d\-])", 0.3),
    )
    context = ("credit", "card", "visa", "mastercard", "amex", "payment", "cc", "debit", "expires", "cvv")
    needs_digits = 13
    validated_score = 1.0

    def validate(self, value: str) -> bool | None:
        """Luhn checksum."""
        return luhn_ok(value)


@recognizer("iban")
class IbanRecognizer(PatternRecognizer):
    """IBANs, compact or in groups of four; the country length and the mod-97 check must pass (then 1.0)."""

    entity = "IBAN_CODE"
    patterns = (
        Pattern("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", 0.5),
    )
    context = ("iban", "bank", "account", "transfer", "wire", "sepa")
    needs_digits = 10
    validated_score = 1.0

    def find_one(self, text: str) -> list[Span]:
        """Search; when a grouped match fails the check, retry without its trailing groups.

        A greedy match may swallow a following number ("DE89 3704 0044 0532 0130 00 1234").
        """
        found = []
        for pattern, rx in self._compiled:
            for m in rx.finditer(text):
                end = m.end()
                while end - m.start() >= 15:
                    span = self._span(text, m.start(), end, pattern)
                    if span is not None:
                        found.append(span)
                        break
                    cut = text.rfind(" ", m.start(), end)
                    if cut < 0:
                        break
                    end = cut
        return found

    def validate(self, value: str) -> bool | None:
        """Country, length and mod-97."""
        return iban_ok(value)


@recognizer("crypto")
class CryptoRecognizer(PatternRecognizer):
    """Bitcoin (legacy/P2SH base58check, bech32 ``bc1``) with checksums (then 1.0); Ethereum ``0x`` + 40 hex."""

    entity = "CRYPTO"
    patterns = (
        Pattern("bitcoin base58", r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b", 0.3),
        Pattern("bitcoin bech32", r"\bbc1[02-9ac-hj-np-z]{11,71}\b", 0.3, re.IGNORECASE),
        Pattern("ethereum", r"\b0x[0-9a-fA-F]{40}\b", 0.75),
    )
    context = ("wallet", "bitcoin", "btc", "eth", "ethereum", "crypto", "address", "send", "usdt")
    validated_score = 1.0

    def validate(self, value: str) -> bool | None:
        """base58check or bech32 for Bitcoin; Ethereum has no checksum in lower case (``None``)."""
        if value[:2].lower() == "0x":
            return None
        if value[:3].lower() == "bc1":
            return bech32_ok(value)
        return base58check_ok(value)
