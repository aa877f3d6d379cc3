"""CSV files: the dialect is sniffed and kept; columns are chosen, or detected from a sample and the header."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from ethos.errors import DataError
from ethos.pii.files._formats import BadRecord, FileFormat, Record, Scanner, Selection
from ethos.pii.files._lines import Line

__all__ = ["HEADER_ENTITIES", "PII_HEADER_WORDS", "CsvFormat"]

PII_HEADER_WORDS = frozenset(
    [
        "name", "names", "firstname", "lastname", "fullname", "surname", "forename", "username", "user", "email",
        "mail", "phone", "mobile", "tel", "telephone", "fax", "address", "addr", "street", "city", "town", "zip",
        "zipcode", "postal", "postcode", "ssn", "sin", "dob", "birth", "birthday", "birthdate", "iban", "bic",
        "account", "card", "cc", "passport", "license", "licence", "ip", "contact", "patient", "customer", "client",
        "employee", "person", "note", "notes", "comment", "comments", "message", "text", "description", "bio",
        "remarks",
    ]
)
"""Header words that mark a column as personal data (or free text likely to hold it)."""

_HEADERS_BY_ENTITY = {
    "PERSON": ("name", "fullname", "firstname", "lastname", "surname", "forename", "givenname", "familyname",
               "middlename", "customername", "patientname", "contactname", "employeename"),
    "EMAIL_ADDRESS": ("email", "emailaddress", "mail"),
    "PHONE_NUMBER": ("phone", "phonenumber", "mobile", "telephone", "tel", "cell"),
    "STREET_ADDRESS": ("address", "streetaddress", "street"),
    "LOCATION": ("city", "town"),
    "ZIP_CODE": ("zip", "zipcode", "postcode", "postalcode"),
    "US_SSN": ("ssn", "socialsecuritynumber"),
    "IBAN_CODE": ("iban",),
    "DATE_TIME": ("dob", "dateofbirth", "birthdate", "birthday"),
    "US_PASSPORT": ("passport", "passportnumber"),
    "IP_ADDRESS": ("ip", "ipaddress"),
}  # fmt: skip
HEADER_ENTITIES: dict[str, str] = {h: entity for entity, headers in _HEADERS_BY_ENTITY.items() for h in headers}
"""Headers (lower-cased, only letters and digits kept) whose every cell is one entity of that type."""

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _header_words(column: str) -> set[str]:
    words = [w.lower() for w in _WORD.findall(column)]
    joined = {"".join(pair) for pair in itertools.pairwise(words)}  # first_name -> firstname
    return set(words) | joined


class CsvFormat(FileFormat):
    """CSV with a header row.

    Args:
        columns: Column names to work on; ``("*",)`` for every column; empty to detect them:
            columns whose header names personal data, plus columns where the analyzer finds
            anything in the first ``sample_rows`` rows.
        source: The file's name, for errors.
        delimiter: Force a delimiter instead of sniffing it (a tab for TSV).
        sample_rows: Rows scanned to detect PII columns.
    """

    name = "csv"

    def __init__(
        self,
        columns: Sequence[str] = (),
        *,
        source: str = "input",
        delimiter: str | None = None,
        sample_rows: int = 200,
    ) -> None:
        """Store the options; the dialect is sniffed when reading starts."""
        self.columns = tuple(dict.fromkeys(columns))
        self.source = source
        self.delimiter = delimiter
        self.sample_rows = sample_rows
        self.header: list[str] = []
        self.dialect: dict[str, Any] = {}

    def records(self, lines: Iterator[Line]) -> Iterator[Record | BadRecord]:
        """The header (not counted), then one record per row."""
        head = list(itertools.islice(lines, 50))
        self.dialect = self._sniff(head)
        state: dict[str, Any] = {"raw": [], "start": 1, "bad": None}

        def feed() -> Iterator[str]:
            for line in itertools.chain(head, lines):
                if not state["raw"]:
                    state["start"] = line.number
                if line.text is None:
                    state["bad"] = BadRecord(line.number, line.error or "unreadable")
                    yield "\n"
                    continue
                state["raw"].append(line.text)
                yield line.text

        reader = csv.reader(feed(), **{k: v for k, v in self.dialect.items() if k != "lineterminator"})
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                state["raw"].clear()
                yield BadRecord(state["start"], f"not valid CSV ({exc})")
                continue
            raw = "".join(state["raw"])
            state["raw"].clear()
            if state["bad"] is not None:
                yield state["bad"]
                state["bad"] = None
                continue
            yield self._record(state["start"], raw, row)

    def _record(self, line: int, raw: str, row: list[str]) -> Record | BadRecord:
        if not self.header:
            self.header = row
            return Record(line, raw, counted=False)
        if len(row) > len(self.header):  # cells without a column would be copied unscanned
            return BadRecord(line, f"row has {len(row)} cells, the header {len(self.header)} (an unquoted delimiter?)")
        return Record(line, raw, list(row), self.header[: len(row)], row)

    def _sniff(self, head: list[Line]) -> dict[str, Any]:
        sample = "".join(line.text for line in head if line.text is not None)
        first = next((line.text for line in head if line.text is not None), "")
        eol = "\r\n" if first.endswith("\r\n") else "\n"
        try:
            sniffed: Any = csv.Sniffer().sniff(sample, delimiters=self.delimiter or ",;\t|")
            params = {
                "delimiter": sniffed.delimiter,
                "quotechar": sniffed.quotechar or '"',
                "doublequote": True,  # the sniffer says False whenever the sample has no "" in it
                "skipinitialspace": sniffed.skipinitialspace,
            }
        except csv.Error:
            params = {"delimiter": self.delimiter or ",", "quotechar": '"'}
            params |= {"doublequote": True, "skipinitialspace": False}
        return {**params, "quoting": csv.QUOTE_MINIMAL, "lineterminator": eol, "strict": True}

    def choose(self, sample: Sequence[Record], scan: Scanner) -> Selection:
        """The given columns (checked against the header), every column, or the detected ones.

        A chosen column whose header is in :data:`HEADER_ENTITIES` (``email``, ``last_name`` ...)
        has each cell replaced whole as that entity: NER misses bare names without context.
        """
        if self.columns == ("*",):
            return self._whole(Selection(None))
        if self.columns:
            missing = [c for c in self.columns if c not in self.header]
            if missing:
                raise DataError(
                    f"{self.source}: no column {', '.join(repr(m) for m in missing)}; "
                    f"columns: {', '.join(self.header) or 'none (empty file)'}"
                )
            return self._whole(Selection(frozenset(self.columns)))
        return self._whole(self._detect([r for r in sample if r.counted][: self.sample_rows], scan))

    def _whole(self, selection: Selection) -> Selection:
        whole = {
            c: HEADER_ENTITIES[key]
            for c in self.header
            if (key := re.sub(r"[^a-z0-9]", "", c.lower())) in HEADER_ENTITIES
            and (selection.fields is None or c in selection.fields)
        }
        notes = [f"column {c!r}: every cell is replaced whole as {e} (its header)" for c, e in whole.items()]
        return Selection(selection.fields, selection.notes + tuple(notes), whole)

    def _detect(self, rows: Sequence[Record], scan: Scanner) -> Selection:
        by_header = [c for c in self.header if _header_words(c) & PII_HEADER_WORDS]
        cells = [(label, text) for r in rows for label, text in zip(r.fields, r.texts, strict=True) if text.strip()]
        found = scan([text for _, text in cells])
        hits: Counter[str] = Counter(label for (label, _), spans in zip(cells, found, strict=True) if spans)
        chosen = [c for c in self.header if c in hits or c in by_header]
        notes = [
            f"column {c!r}: " + ", ".join(
                ([f"personal data found in {hits[c]} of {len(rows)} sampled rows"] if c in hits else [])
                + (["its header names personal data"] if c in by_header else [])
            )
            for c in chosen
        ]
        if not chosen:
            notes.append(f"no column looks personal in the header or the first {len(rows)} rows; pass --columns")
        return Selection(frozenset(chosen), tuple(notes))

    def render(self, record: Record, new: dict[int, str]) -> str:
        """The row with only the changed cells rewritten; the others keep their exact bytes and quoting."""
        cells = _cell_bounds(record.raw, self.dialect["delimiter"], self.dialect["quotechar"])
        if cells is None or len(cells) != len(record.payload):
            row = list(record.payload)
            for i, value in new.items():
                row[i] = value
            buf = io.StringIO()
            csv.writer(buf, **self.dialect).writerow(row)
            return buf.getvalue()
        out = record.raw
        for i in sorted(new, reverse=True):
            start, end, quoted = cells[i]
            out = out[:start] + self._encode(new[i], quoted) + out[end:]
        return out

    def _encode(self, value: str, quoted: bool) -> str:
        q, d = str(self.dialect["quotechar"]), str(self.dialect["delimiter"])
        if quoted or any(c in value for c in (q, d, "\r", "\n")) or value == "":
            return q + value.replace(q, q + q) + q
        return value


def _cell_bounds(raw: str, delimiter: str, quote: str) -> list[tuple[int, int, bool]] | None:
    """(start, end, quoted) of each cell of one raw CSV row (``None`` if it does not look standard)."""
    body = raw.removesuffix("\n").removesuffix("\r")
    cells: list[tuple[int, int, bool]] = []
    i = 0
    while True:
        start = i
        if i < len(body) and body[i] == quote:
            i += 1
            while True:
                j = body.find(quote, i)
                if j < 0:
                    return None
                if j + 1 < len(body) and body[j + 1] == quote:
                    i = j + 2
                    continue
                i = j + 1
                break
            cells.append((start, i, True))
        else:
            j = body.find(delimiter, i)
            i = len(body) if j < 0 else j
            if quote in body[start:i]:
                return None
            cells.append((start, i, False))
        if i == len(body):
            return cells
        if body[i] != delimiter:
            return None
        i += 1
