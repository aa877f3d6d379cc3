"""Value makers for the synthetic set: one per entity type and per non-PII decoy slot.

Faker supplies names, places, companies, e-mails, phones, addresses, IBANs, card numbers and
dates in several locales; the rest (passport, licence, crypto, API-key and secret formats) is
generated here with valid checksums where the format has one.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

__all__ = ["DECOYS", "LOCALES", "MAKERS", "ValueContext"]

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR")
_LOCALE_WEIGHTS = (0.55, 0.15, 0.15, 0.15)
_ADDRESS_LOCALES = ("en_US", "en_US", "en_US", "de_DE", "fr_FR")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_NRP = (
    "French", "German", "Nigerian", "Brazilian", "Japanese", "Mexican", "Canadian", "Indian", "Irish", "Polish",
    "Vietnamese", "Kenyan", "Catholic", "Muslim", "Jewish", "Buddhist", "Hindu", "Protestant", "Sikh", "Democrat",
    "Republican", "Korean", "Italian", "Egyptian", "Chinese", "Ukrainian", "Swedish", "Turkish", "Filipino",
)  # fmt: skip
_DATE_FORMATS = ("%B %d, %Y", "%d %B %Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%b %d, %Y")


class ValueContext:
    """Seeded sources for one generation run: a ``random.Random`` and one Faker per locale.

    Args:
        seed: Seeds both the RNG and every Faker instance.
    """

    def __init__(self, seed: int) -> None:
        """Create the seeded RNG and Faker instances."""
        from faker import Faker

        self.rng = random.Random(seed)  # noqa: S311  (test data, not secrets)
        self.fakers: dict[str, Any] = {}
        for i, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + i)
            self.fakers[locale] = fake
        self.locale = "en_US"

    def pick_locale(self) -> None:
        """Choose the locale of the next sentence's people, places and phones."""
        self.locale = self.rng.choices(LOCALES, weights=_LOCALE_WEIGHTS)[0]

    @property
    def fake(self) -> Any:
        """The Faker of the current locale."""
        return self.fakers[self.locale]

    @property
    def us(self) -> Any:
        """The en_US Faker (US-only formats)."""
        return self.fakers["en_US"]

    def chars(self, alphabet: str, n: int) -> str:
        """``n`` random characters from ``alphabet``."""
        return "".join(self.rng.choice(alphabet) for _ in range(n))


def _person(c: ValueContext) -> str:
    first = c.fake.first_name()
    return first if c.rng.random() < 0.1 else f"{first} {c.fake.last_name()}"


def _location(c: ValueContext) -> str:
    return str(c.us.country() if c.rng.random() < 0.3 else c.fake.city())


def _card(c: ValueContext) -> str:
    number = c.us.credit_card_number(card_type=c.rng.choice(("visa16", "mastercard", "amex", "discover")))
    if c.rng.random() < 0.5 and len(number) == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return str(number)


def _iban(c: ValueContext) -> str:
    iban = str(c.fakers[c.rng.choice(("de_DE", "fr_FR", "en_GB"))].iban())
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if c.rng.random() < 0.5 else iban


def _ip(c: ValueContext) -> str:
    return str(c.us.ipv6() if c.rng.random() < 0.25 else c.us.ipv4_public())


def _url(c: ValueContext) -> str:
    return str(c.us.uri() if c.rng.random() < 0.5 else c.us.url())


# Fixed ranges, not Faker's "this decade" or "age": those are relative to today, so the same seed
# would give a different set tomorrow (or a second later).
_DATES = (date(1935, 1, 1), date(2024, 12, 31))
_TIMESTAMPS = (datetime(2020, 1, 1), datetime(2029, 12, 31, 23, 59, 59))


def _date(c: ValueContext) -> str:
    return str(c.us.date_between_dates(*_DATES).strftime(c.rng.choice(_DATE_FORMATS)))


def _street(c: ValueContext) -> str:
    return str(c.fakers[c.rng.choice(_ADDRESS_LOCALES)].street_address())


def _zip(c: ValueContext) -> str:
    return str(c.us.zipcode_plus4() if c.rng.random() < 0.2 else c.us.zipcode())


def _passport(c: ValueContext) -> str:
    digits = c.chars(string.digits, 8)
    return c.chars(string.ascii_uppercase, 1) + digits if c.rng.random() < 0.5 else c.chars("123456789", 1) + digits


def _licence(c: ValueContext) -> str:
    return c.chars(string.ascii_uppercase, 1) + c.chars(string.digits, c.rng.choice((7, 8, 12)))


def _btc(c: ValueContext) -> str:
    payload = bytes([c.rng.choice((0, 5))]) + bytes(c.rng.randrange(256) for _ in range(20))
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _crypto(c: ValueContext) -> str:
    return _btc(c) if c.rng.random() < 0.6 else "0x" + c.chars("0123456789abcdef", 40)


def _api_key(c: ValueContext) -> str:
    alnum = string.ascii_letters + string.digits
    kind = c.rng.randrange(5)
    if kind == 0:
        return "AKIA" + c.chars(string.ascii_uppercase + string.digits, 16)
    if kind == 1:
        return "ghp_" + c.chars(alnum, 36)
    if kind == 2:
        return "sk-proj-" + c.chars(alnum, 40)
    if kind == 3:
        return f"xoxb-{c.chars(string.digits, 11)}-{c.chars(string.digits, 12)}-{c.chars(alnum, 24)}"
    return "sk_live_" + c.chars(alnum, 24)


def _secret(c: ValueContext) -> str:
    return str(c.us.password(length=c.rng.randint(10, 18), special_chars=c.rng.random() < 0.7))


MAKERS: dict[str, Callable[[ValueContext], str]] = {
    "PERSON": _person,
    "LOCATION": _location,
    "ORGANIZATION": lambda c: str(c.fake.company()),
    "NRP": lambda c: c.rng.choice(_NRP),
    "EMAIL_ADDRESS": lambda c: str(c.fake.email()),
    "PHONE_NUMBER": lambda c: str(c.fake.phone_number()),
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "US_SSN": lambda c: str(c.us.ssn()),
    "IP_ADDRESS": _ip,
    "URL": _url,
    "DATE_TIME": _date,
    "AGE": lambda c: str(c.rng.randint(18, 94)),
    "ZIP_CODE": _zip,
    "STREET_ADDRESS": _street,
    "US_PASSPORT": _passport,
    "US_DRIVER_LICENSE": _licence,
    "CRYPTO": _crypto,
    "API_KEY": _api_key,
    "SECRET": _secret,
}
"""Entity → value maker."""

DECOYS: dict[str, Callable[[ValueContext], str]] = {
    "order_id": lambda c: c.rng.choice(("", "ORD-", "#")) + c.chars(string.digits, c.rng.choice((6, 8, 10))),
    "version": lambda c: f"{c.rng.randint(0, 12)}.{c.rng.randint(0, 30)}.{c.rng.randint(0, 99)}",
    "timestamp": lambda c: c.us.date_time_between_dates(*_TIMESTAMPS).strftime(c.rng.choice(("%Y-%m-%d %H:%M:%S",
                                                                              "%Y-%m-%dT%H:%M:%SZ"))),
    "count": lambda c: str(c.rng.randint(2, 5000)),
    "amount": lambda c: f"{c.rng.randint(1, 99_999):,}.{c.rng.randint(0, 99):02d}",
    "sha": lambda c: c.chars("0123456789abcdef", c.rng.choice((7, 12, 40))),
    "uuid": lambda c: str(c.us.uuid4()),
    "ticket": lambda c: c.rng.choice(("JIRA", "OPS", "INC", "BUG")) + "-" + c.chars(string.digits, 4),
    "port": lambda c: str(c.rng.choice((22, 80, 443, 5432, 6379, 8080, 9200))),
    "percent": lambda c: f"{c.rng.randint(1, 99)}.{c.rng.randint(0, 9)}%",
    "sku": lambda c: c.chars(string.ascii_uppercase, 3) + "-" + c.chars(string.digits, 5),
}
"""Non-PII slots that look like PII (ids, versions, log timestamps, hashes); never labelled."""
