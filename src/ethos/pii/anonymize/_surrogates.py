"""Fake values by entity type that keep the original's shape (used by the ``surrogate`` operator).

Every generator is a pure function of (entity, value, seed): Faker and ``random.Random`` are
seeded per value, so the same seed always gives the same fake value.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

__all__ = ["fake_value", "shape_preserving"]

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%d %B %Y", "%b %d, %Y", "%d %b %Y")
_NRP = ("Canadian", "Brazilian", "Norwegian", "Kenyan", "Vietnamese", "Chilean", "Danish", "Moroccan", "Irish")


def shape_preserving(value: str, rng: random.Random) -> str:
    """Replace each digit by a digit and each letter by a letter of the same case; keep the rest."""
    out = []
    for ch in value:
        if ch.isdigit():
            out.append(rng.choice(string.digits))
        elif ch.isalpha() and ch.isascii():
            out.append(rng.choice(string.ascii_uppercase if ch.isupper() else string.ascii_lowercase))
        else:
            out.append(ch)
    return "".join(out)


def _luhn_like(value: str, rng: random.Random) -> str:
    """Random digits in the same grouping, with a valid Luhn check digit."""
    digits = [rng.choice(string.digits) for ch in value if ch.isdigit()]
    if len(digits) < 2:
        return shape_preserving(value, rng)
    digits[0] = rng.choice("3456")
    total = 0
    for i, d in enumerate(reversed(digits[:-1])):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    digits[-1] = str((10 - total % 10) % 10)
    it = iter(digits)
    return "".join(next(it) if ch.isdigit() else ch for ch in value)


def _person(fake: Any, value: str, rng: random.Random) -> str:
    words = value.split()
    if len(words) <= 1:
        name = str(fake.first_name())
    else:
        name = " ".join([*(str(fake.first_name()) for _ in words[:-1]), str(fake.last_name())])
    if value.isupper():
        return name.upper()
    return name.lower() if value.islower() else name


def _date(fake: Any, value: str, rng: random.Random) -> str:
    for fmt in _DATE_FORMATS:
        try:
            datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - only the format is wanted
        except ValueError:
            continue
        fake_date: date = fake.date_between(start_date=date(1940, 1, 1), end_date=date(2020, 12, 31))
        return fake_date.strftime(fmt)
    return shape_preserving(value, rng)


def _ip(fake: Any, value: str, rng: random.Random) -> str:
    return str(fake.ipv6() if ":" in value else fake.ipv4_public())


def _email(fake: Any, value: str, rng: random.Random) -> str:
    return f"{fake.user_name()}@{fake.domain_name()}"


def _simple(method: str) -> Callable[[Any, str, random.Random], str]:
    def make(fake: Any, value: str, rng: random.Random) -> str:
        return str(getattr(fake, method)())

    return make


_GENERATORS: dict[str, Callable[[Any, str, random.Random], str]] = {
    "PERSON": _person,
    "PER": _person,
    "NAME": _person,
    "EMAIL_ADDRESS": _email,
    "EMAIL": _email,
    "CREDIT_CARD": lambda fake, value, rng: _luhn_like(value, rng),
    "IP_ADDRESS": _ip,
    "IP": _ip,
    "DATE_TIME": _date,
    "DATE": _date,
    "LOCATION": _simple("city"),
    "GPE": _simple("city"),
    "LOC": _simple("city"),
    "ORGANIZATION": _simple("company"),
    "ORG": _simple("company"),
    "STREET_ADDRESS": _simple("street_address"),
    "ADDRESS": _simple("street_address"),
    "URL": _simple("url"),
    "IBAN_CODE": _simple("iban"),
    "IBAN": _simple("iban"),
    "NRP": lambda fake, value, rng: rng.choice(_NRP),
}


def fake_value(fake: Any, entity: str, value: str, seed: int) -> str:
    """A fake ``entity`` value shaped like ``value``, determined by ``seed``.

    Types without a dedicated generator (phone numbers, SSNs, zip codes, IDs, keys) keep their
    exact shape: digits stay digits, letters keep their case, separators stay where they are.
    """
    rng = random.Random(seed)  # noqa: S311 - deterministic look-alike from a keyed seed, not a secret
    generator = _GENERATORS.get(entity.upper())
    if generator is None:
        return shape_preserving(value, rng)
    fake.seed_instance(seed)
    return generator(fake, value, rng)
