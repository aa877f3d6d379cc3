"""Street addresses and zip/postal codes.

Street addresses: a house number, one to four capitalised words and a street suffix from the
USPS list (``Street``, ``Ave``, ``Blvd``, ``Lane``, ``Terrace`` …), optionally a unit
(``Apt. 4``, ``Suite 210``); and the continental order (``Hauptstraße 5``, ``rue de la Paix 12``).
Zip codes: US ZIP and ZIP+4 after a state abbreviation (0.6) or bare (0.1, needs a context word
such as "zip"); UK and Canadian postcodes (0.5).
"""

from __future__ import annotations

import re

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer

__all__ = ["StreetAddressRecognizer", "ZipCodeRecognizer"]

# USPS Publication 28, appendix C1 (street suffixes and their standard abbreviations).
_SUFFIXES = str.split(
    "Alley Aly Avenue Ave Av Boulevard Blvd Bypass Byp Causeway Cswy Center Ctr Circle Cir Circles Cirs Close "
    "Common Corner Cor Corners Cors Course Crse Court Ct Courts Cts Cove Cv Creek Crk Crescent Cres Crest Crossing "
    "Xing Crossroad Xrd Drive Dr Drives Drs Estate Est Estates Ests Expressway Expy Extension Ext Fork Frk Forks Frks "
    "Freeway Fwy Garden Gdn Gardens Gdns Gateway Gtwy Glen Gln Green Grn Grove Grv Harbor Hbr Heights Hts Highway Hwy "
    "Hill Hl Hills Hls Hollow Holw Island Is Junction Jct Key Ky Knoll Knl Lake Lk Landing Lndg Lane Ln Loop Manor "
    "Mnr Meadow Mdw Meadows Mdws Mews Mill Ml Mills Mls Motorway Mtwy Mount Mt Mountain Mtn Orchard Orch Oval Park "
    "Parkway Pkwy Pass Path Pike Pine Pne Pines Pnes Place Pl Plain Pln Plains Plns Plaza Plz Point Pt Points Pts "
    "Port Prt Ridge Rdg Ridges Rdgs Road Rd Roads Rds Route Rte Row Run Square Sq Squares Sqs Station Sta Stravenue "
    "Stra Stream Strm Street St Streets Sts Summit Smt Terrace Ter Trace Trce Track Trak Trail Trl Tunnel Tunl "
    "Turnpike Tpke Underpass Upas Union Un Valley Vly Via Viaduct Vi Views Vws View Vw Village Vlg Ville Vl Vista Vis "
    "Walk Wall Way Ways Well Wl Wells Wls Branch Br Bridge Brg Brook Brk Brooks Brks Burg Bg Burgs Bgs Camp Cp "
    "Canyon Cyn Cape Cpe Cliff Clf Cliffs Clfs Club Clb Curve Curv Dale Dl Dam Dm Divide Dv Fall Falls Fls Ferry "
    "Fry Field Fld Fields Flds Flat Flt Flats Flts Ford Frd Fords Frds Forest Frst Forge Frg Forges Frgs Fort Ft "
    "Harbors Hbrs Haven Hvn Inlet Inlt Islands Iss Isle Junctions Jcts Keys Kys Knolls Knls Lakes Lks Land Light "
    "Lgt Lights Lgts Loaf Lf Lock Lck Locks Lcks Lodge Ldg Mall Manors Mnrs Mission Msn Mountains Mtns Neck Nck "
    "Overpass Opas Parks Parkways Prairie Pr Radial Radl Ramp Ranch Rnch Rapid Rpd Rapids Rpds Rest Rst Shoal "
    "Shl Shoals Shls Shore Shr Shores Shrs Skyway Skwy Spring Spg Springs Spgs Spur Spurs Throughway Trwy "
    "Trafficway Trfy Trailer Trlr Unions Uns Valleys Vlys Villages Vlgs Ville Vl Vista Vsta"
)
_SUFFIX = "(?:" + "|".join(sorted(set(_SUFFIXES), key=len, reverse=True)) + r")\.?"
_WORD = r"(?:[A-Z][a-zA-Z'\-]+|\d{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Fl\.?|Floor|#)\s*[A-Za-z0-9\-]{1,6})?"
_DIRECTION = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
_CONTINENTAL = r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|laan|straat|gracht|vej|gatan|gata|väg)"


@recognizer("street_address")
class StreetAddressRecognizer(PatternRecognizer):
    """House number + street name + suffix (+ unit), and continental street + number."""

    entity = "STREET_ADDRESS"
    patterns = (
        Pattern("number street suffix", rf"\b\d{{1,6}}[A-Za-z]?\s+{_DIRECTION}(?:{_WORD}\s+){{1,3}}{_SUFFIX}(?!\w)"
                rf"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?{_UNIT}",
                0.6),
        Pattern("continental street number",
                rf"\b[A-ZÄÖÜ][\wäöüß\-]*{_CONTINENTAL}\s+\d{{1,4}}[a-z]?(?:/\d{{1,3}})?\b", 0.6,
                re.UNICODE),
        Pattern("romance street", r"\b\d{1,4},?\s+(?:rue|avenue|boulevard|chemin|via|viale|calle|avenida|rua|piazza)"
                r"\s+(?:(?:de|del|della|di|la|le|les|des|du|da|do)\s+)*[A-ZÀ-Ý][\w'\-]+(?:\s+[A-ZÀ-Ý][\w'\-]+){0,2}",
                0.6),
    )
    context = ("address", "live", "lives", "living", "located", "street", "ship", "deliver", "mail", "moved", "at")
    needs_digits = 1


@recognizer("zip_code")
class ZipCodeRecognizer(PatternRecognizer):
    """US ZIP / ZIP+4, UK and Canadian postcodes."""

    entity = "ZIP_CODE"
    patterns = (
        Pattern("us zip after state", r"(?:,\s*|\s)(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]"
                r"|N[CDEHJMVY]|O[HKR]|P[AR]|RI|S[CD]|T[NX]|UT|V[AIT]|W[AIVY])\s+(?P<value>\d{5}(?:-\d{4})?)\b", 0.6),
        Pattern("us zip+4", r"(?<![\w\-.,/])\d{5}-\d{4}(?![\w\-/]|[.,]\d)", 0.3),
        Pattern("us zip", r"(?<![\w\-.,/])\d{5}(?![\w\-/]|[.,]\d)", 0.1),
        Pattern("uk postcode", r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b", 0.5),
        Pattern("canadian postcode", r"\b[ABCEGHJ-NPRSTVXY]\d[A-Z]\s\d[A-Z]\d\b", 0.5),
    )
    context = ("zip", "zipcode", "postal", "postcode", "address", "shipping", "mailing")
    needs_digits = 1
