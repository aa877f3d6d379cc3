"""Canonical entity names and the table that maps other tools' names onto them.

Ethos reports these names (Presidio's where Presidio has one). Labels from spaCy, Presidio,
presidio-research's synthetic set, ai4privacy-style data sets and common spellings are mapped
through :data:`ENTITY_ALIASES` by :func:`canonical_entity`, so data labelled by another tool can
be scored (``ethos pii eval``) and Presidio's output compared with ours.
"""

from __future__ import annotations

import re

__all__ = ["CANONICAL_ENTITIES", "ENTITY_ALIASES", "canonical_entity"]

CANONICAL_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "NRP",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "DATE_TIME",
    "AGE",
    "ZIP_CODE",
    "STREET_ADDRESS",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "CRYPTO",
    "API_KEY",
    "SECRET",
)

_ALIAS_GROUPS: dict[str, tuple[str, ...]] = {
    "PERSON": ("PER", "PERSON_NAME", "NAME", "FULL_NAME", "FULLNAME", "FIRSTNAME", "LASTNAME", "FIRST_NAME",
               "LAST_NAME", "MIDDLENAME", "NAME_STUDENT", "USERNAME_PERSON"),
    "LOCATION": ("LOC", "GPE", "FAC", "FACILITY", "CITY", "COUNTRY", "STATE", "COUNTY", "PLACE"),
    "ORGANIZATION": ("ORG", "ORGANISATION", "COMPANY", "COMPANYNAME", "COMPANY_NAME"),
    "NRP": ("NORP", "NATIONALITY", "RELIGION", "POLITICAL_GROUP"),
    "EMAIL_ADDRESS": ("EMAIL", "E_MAIL", "MAIL", "EMAIL_ADDR"),
    "PHONE_NUMBER": ("PHONE", "PHONENUMBER", "PHONE_NUM", "TELEPHONE", "TELEPHONENUM", "TEL", "MOBILE",
                     "MOBILE_NUMBER"),
    "CREDIT_CARD": ("CREDIT_CARD_NUMBER", "CREDITCARDNUMBER", "CREDITCARD", "CC", "CARD_NUMBER"),
    "IBAN_CODE": ("IBAN",),
    "US_SSN": ("SSN", "SOCIAL_SECURITY_NUMBER", "SOCIALNUM"),
    "IP_ADDRESS": ("IP", "IPV4", "IPV6", "IP_ADDR"),
    "URL": ("URI", "DOMAIN_NAME", "DOMAIN", "WEBSITE", "URL_PERSONAL"),
    "DATE_TIME": ("DATE", "TIME", "DATETIME", "DOB", "DATE_OF_BIRTH", "BIRTHDATE"),
    "AGE": ("AGES",),
    "ZIP_CODE": ("ZIP", "ZIPCODE", "POSTCODE", "POSTAL_CODE", "POST_CODE"),
    "STREET_ADDRESS": ("ADDRESS", "STREET", "STREETADDRESS", "STREET_NAME"),
    "US_PASSPORT": ("PASSPORT", "PASSPORT_NUMBER", "PASSPORTNUM"),
    "US_DRIVER_LICENSE": ("DRIVER_LICENSE", "DRIVERS_LICENSE", "DRIVER_LICENCE", "DRIVERLICENSE",
                          "DRIVERLICENSENUM", "US_DRIVERS_LICENSE"),
    "CRYPTO": ("CRYPTO_WALLET", "BITCOIN_ADDRESS", "BTC_ADDRESS", "ETH_ADDRESS", "ETHEREUM_ADDRESS", "WALLET"),
    "API_KEY": ("APIKEY", "ACCESS_KEY", "ACCESS_TOKEN", "TOKEN", "AUTH_TOKEN"),
    "SECRET": ("PASSWORD", "PRIVATE_KEY", "CREDENTIAL", "CREDENTIALS", "SECRET_KEY"),
}

ENTITY_ALIASES: dict[str, str] = {alias: canon for canon, aliases in _ALIAS_GROUPS.items() for alias in aliases}
"""Variant name (normalised: upper case, ``-``/space/``.`` → ``_``) → canonical name."""

_SEPARATORS = re.compile(r"[\s.\-]+")


def canonical_entity(name: str) -> str:
    """Return the canonical Ethos name for an entity label from any tool.

    The label is upper-cased and spaces, dots and hyphens become ``_`` before the lookup, so
    ``email``, ``E-MAIL`` and ``EMAIL_ADDRESS`` all give ``EMAIL_ADDRESS``. A label that is
    neither canonical nor a known variant is returned normalised, unchanged otherwise (it is
    then scored as its own type).

    Args:
        name: An entity label, e.g. ``GPE``, ``PHONE`` or ``B-PER``'s type ``PER``.
    """
    key = _SEPARATORS.sub("_", name.strip()).upper()
    return ENTITY_ALIASES.get(key, key)
