"""Decoded lines from a byte stream, with line numbers and byte offsets for error messages.

Lines are read as bytes and decoded one at a time, so a decoding error names its line and the
byte offset of the bad byte in the file, and the reader never holds more than one line.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ethos.errors import ConfigError

__all__ = ["Line", "LineSource", "check_encoding"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the input.

    Attributes:
        number: 1-based line number.
        text: The decoded line, with its line terminator; ``None`` when it could not be decoded.
        error: Why the line could not be decoded (names the byte offset), else ``None``.
    """

    number: int
    text: str | None
    error: str | None = None


def check_encoding(encoding: str) -> str:
    """Return ``encoding``'s canonical name, refusing encodings whose lines do not end in a LF byte.

    Raises:
        ConfigError: For an unknown encoding, or UTF-16/32 (not line-splittable as bytes).
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}; use e.g. utf-8, latin-1 or cp1252") from None
    if name.startswith(("utf-16", "utf-32")):
        raise ConfigError(f"encoding {encoding!r} is not supported for streaming; convert the file to utf-8")
    return name


class LineSource:
    """Iterate over the decoded lines of a binary stream, counting bytes read.

    A UTF-8 byte-order mark is removed from the first line and remembered in :attr:`bom`, so the
    writer can put it back.

    Args:
        stream: The open binary stream (a file, or stdin's buffer).
        encoding: A text encoding accepted by :func:`check_encoding`.
    """

    def __init__(self, stream: BinaryIO, encoding: str = "utf-8") -> None:
        """Store the stream; nothing is read yet."""
        self._stream = stream
        self.encoding = check_encoding(encoding)
        self.bytes_read = 0
        self.bom = ""

    def __iter__(self) -> Iterator[Line]:
        """Yield each line; undecodable lines come with ``text=None`` and an ``error``."""
        for number, raw in enumerate(self._stream, start=1):
            offset = self.bytes_read
            self.bytes_read += len(raw)
            if number == 1 and raw.startswith(codecs.BOM_UTF8) and self.encoding == "utf-8":
                raw = raw[len(codecs.BOM_UTF8) :]
                self.bom = "\ufeff"
                offset += len(codecs.BOM_UTF8)
            try:
                yield Line(number, raw.decode(self.encoding))
            except UnicodeDecodeError as exc:
                where = offset + exc.start
                why = f"not valid {self.encoding} (byte offset {where}; is --encoding right?)"
                yield Line(number, None, why)
