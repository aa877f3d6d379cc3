"""Finding a field's line in TOML text: ``tomllib`` gives values, not positions."""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the field at ``loc`` in TOML ``text`` (best effort; ``None`` if not found).

    ``[[name]]`` headers are counted for list indices; a key is found as a ``key =`` line inside its
    table, or as a dotted ``table.key =`` line; a missing key points at its table's header.
    """
    lines = text.splitlines()
    headers = []
    for i, line in enumerate(lines):
        header = _HEADER.match(line)
        if header:
            headers.append((i, ".".join(p.strip().strip("\"'") for p in header.group(2).split("."))))
    names = [str(p) for p in loc if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), 0)
    for cut in range(len(names), 0, -1):
        table = ".".join(names[:cut])
        starts = [i for i, name in headers if name == table]
        if not starts:
            continue
        start = starts[min(index, len(starts) - 1)]
        end = next((i for i, _ in headers if i > start), len(lines))
        rest = names[cut:]
        if not rest:
            return start + 1
        key = re.compile(rf"""^\s*["']?{re.escape(".".join(rest))}["']?\s*=""")
        hit = next((i for i in range(start + 1, end) if key.search(lines[i])), None)
        return (hit if hit is not None else start) + 1
    key = re.compile(rf"""^\s*{re.escape(".".join(names))}\s*=""")
    return next((i + 1 for i, line in enumerate(lines) if key.search(line)), None)
