"""US social security numbers, passport numbers and driver's licence numbers.

Passport and licence formats are short runs of letters and digits that also match order
numbers and codes, so their base scores are low (0.05–0.1): they are reported only next to a
context word ("passport", "driver's license", "DL").
"""

from __future__ import annotations

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer
from ethos.pii.detect._validators import us_ssn_ok

__all__ = ["UsDriverLicenseRecognizer", "UsPassportRecognizer", "UsSsnRecognizer"]


@recognizer("us_ssn")
class UsSsnRecognizer(PatternRecognizer):
    """SSNs as ``AAA-GG-SSSS`` (0.5) or ``AAA GG SSSS`` (0.4) or 9 bare digits (0.05); unissuable numbers rejected."""

    entity = "US_SSN"
    patterns = (
        Pattern("ssn dashed", r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])", 0.5),
        Pattern("ssn spaced or dotted", r"(?<![\w.])\d{3}([ .])\d{2}\1\d{4}(?![\w.])", 0.4),
        Pattern("ssn bare", r"(?<![\w\-])\d{9}(?![\w\-])", 0.05),
    )
    context = ("ssn", "social", "security", "ssa", "ss#", "ssns", "taxpayer", "tin", "itin")
    needs_digits = 9

    def validate(self, value: str) -> bool | None:
        """Area, group and serial rules of the SSA."""
        return us_ssn_ok(value)


@recognizer("us_passport")
class UsPassportRecognizer(PatternRecognizer):
    """US passport books (9 digits) and next-generation passports (a letter + 8 digits)."""

    entity = "US_PASSPORT"
    patterns = (
        Pattern("passport 9 digits", r"(?<![\w\-])\d{9}(?![\w\-])", 0.05),
        Pattern("passport letter + 8 digits", r"(?<![\w\-])[A-Z]\d{8}(?![\w\-])", 0.1),
    )
    context = ("passport", "travel document", "passports")
    needs_digits = 8


@recognizer("us_driver_license")
class UsDriverLicenseRecognizer(PatternRecognizer):
    """The common state formats: 1–2 letters + 4–14 digits, or 7–13 digits, or ``A123-4567-8901``."""

    entity = "US_DRIVER_LICENSE"
    patterns = (
        Pattern("letters + digits", r"(?<![\w\-])[A-Z]{1,2}\d{4,14}(?![\w\-])", 0.1),
        Pattern("digits", r"(?<![\w\-])\d{7,13}(?![\w\-])", 0.05),
        Pattern("dashed groups", r"(?<![\w\-])[A-Z]\d{3}-\d{4}-\d{4}(?:-\d{1,4})?(?![\w\-])", 0.15),
    )
    context = ("driver", "drivers", "license", "licence", "dl", "dmv", "driving")
    needs_digits = 4
