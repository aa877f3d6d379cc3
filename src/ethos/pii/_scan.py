"""``ethos.scan``: detection with one loaded analyzer per configuration, reused across calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ethos.pii.detect import Analyzer, AnalyzerConfig
from ethos.types import Span

__all__ = ["cached_analyzer", "scan"]

_CACHE: dict[str, Analyzer] = {}
_LOCK = threading.Lock()
_MAX_CACHED = 8


def cached_analyzer(config: AnalyzerConfig | None = None) -> Analyzer:
    """Return a loaded :class:`Analyzer` for ``config``, building it only the first time.

    Equal configs share one analyzer (and one spaCy pipeline); at most eight are kept, the
    oldest is dropped first.
    """
    config = config or AnalyzerConfig()
    key = config.cache_key()
    with _LOCK:
        analyzer = _CACHE.get(key)
        if analyzer is None:
            analyzer = _CACHE[key] = Analyzer(config)
            while len(_CACHE) > _MAX_CACHED:
                del _CACHE[next(iter(_CACHE))]
    return analyzer.load()


def scan(
    texts: Sequence[str] | str,
    *,
    analyzer: Analyzer | None = None,
    config: AnalyzerConfig | None = None,
) -> list[list[Span]]:
    """Find personal data in ``texts`` (one list of spans per text; a lone string counts as one text).

    Args:
        texts: The texts to scan.
        analyzer: Use this analyzer (``config`` must then be ``None``).
        config: Otherwise, the settings of a cached analyzer (default settings when ``None``).

    Raises:
        ValueError: When both ``analyzer`` and ``config`` are given.
    """
    if analyzer is not None and config is not None:
        raise ValueError("give either analyzer or config, not both")
    batch = [texts] if isinstance(texts, str) else list(texts)
    return (analyzer or cached_analyzer(config)).scan(batch)
