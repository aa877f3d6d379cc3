"""Closed-loop HTTP load generator and /proc CPU accounting for bench/gateway_bench.py.

The method follows ../shared/reference/baseline-gateway.md: ``C`` workers share one
``aiohttp.ClientSession`` limited to ``C`` keep-alive connections, and each sends its next request as
soon as the previous answer's last byte arrived. Warm-up requests run first on the same session and
are not counted. Percentiles are linear interpolations (numpy's default). aiohttp, not httpx: httpx
costs about 0.9 ms of client CPU per request and would be the bottleneck itself.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT_S = 60.0


@dataclass
class Sample:
    """One case's raw measurements."""

    latencies_ms: list[float] = field(default_factory=list)
    first_byte_ms: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    first_error: str | None = None
    wall_s: float = 0.0

    def fail(self, message: str) -> None:
        """Count an error; keep the first message as an example."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = message[:200]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


REQUEST_MARK = b"#REQ#"
"""Replaced in a request body by the request's number, so that no two requests send the same text."""

_REQUEST_NUMBERS = itertools.count(1)
"""One sequence for the whole process: numbers never repeat across cases, paths or repetitions
(a gateway serves several cases, and a prompt cache would otherwise see the same texts again)."""


async def _one(session: aiohttp.ClientSession, url: str, body: Callable[[], bytes], stream: bool,
               sample: Sample | None) -> None:  # fmt: skip
    began = time.perf_counter()
    first: float | None = None
    try:
        async with session.post(url, data=body()) as response:
            if stream:
                tail = b""
                async for chunk in response.content.iter_any():
                    if first is None:
                        first = time.perf_counter()
                    tail = (tail + chunk)[-64:]
                ok = response.status == 200 and b"[DONE]" in tail
            else:
                payload = await response.read()
                ok = response.status == 200 and b'"choices"' in payload
                tail = payload[-200:]
    except (TimeoutError, aiohttp.ClientError) as error:
        if sample is not None:
            sample.fail(f"{type(error).__name__}: {error}")
        return
    ended = time.perf_counter()
    if sample is None:
        return
    if not ok:
        sample.fail(f"HTTP {response.status}: {tail.decode(errors='replace')}")
        return
    sample.latencies_ms.append((ended - began) * 1000)
    if first is not None:
        sample.first_byte_ms.append((first - began) * 1000)


async def _drive(send: Callable[[Sample | None], Awaitable[None]], concurrency: int, n: int, sample: Sample | None,
                 deadline: float = float("inf")) -> None:  # fmt: skip
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            if sample is not None:
                sample.sent += 1
            await send(sample)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_load(  # noqa: PLR0913 (keyword-only load shape)
    url: str, headers: dict[str, str], body: bytes, *, concurrency: int, n: int, warmup: int, stream: bool,
    mark: Callable[[str], None] | None = None, max_s: float = float("inf"),
) -> Sample:
    """Send ``warmup`` then ``n`` POSTs of ``body`` to ``url`` from ``concurrency`` closed-loop workers.

    Args:
        url: The endpoint.
        headers: Sent with every request (content type, authorization).
        body: The JSON request body; each :data:`REQUEST_MARK` in it becomes the request's number.
        concurrency: Workers, and the session's connection limit.
        n: Counted requests (fewer when ``max_s`` runs out first: ``Sample.sent`` says how many).
        warmup: Requests sent first and not counted.
        stream: Read the body as SSE; time to first byte is recorded too, and success needs ``[DONE]``.
        mark: Called with ``"start"`` after the warm-up and ``"end"`` after the counted requests
            (to read CPU counters over exactly the counted part).
        max_s: No new counted request starts after this many seconds (slow paths stay bounded).

    Returns:
        Latencies (send to last byte) of the successful counted requests, errors and wall seconds.
    """
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    sample = Sample()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        parts = body.split(REQUEST_MARK)

        def numbered() -> bytes:
            return str(next(_REQUEST_NUMBERS)).encode().join(parts)

        send = partial(_one, session, url, numbered if len(parts) > 1 else lambda: body, stream)
        await _drive(send, concurrency, warmup, None)
        if mark is not None:
            mark("start")
        began = time.perf_counter()
        await _drive(send, concurrency, n, sample, began + max_s)
        sample.wall_s = time.perf_counter() - began
        if mark is not None:
            mark("end")
    return sample


def _stat_fields(pid: int | str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...


def tree_cpu_s(roots: Iterable[int]) -> float:
    """User+system CPU seconds of the live processes under ``roots`` (them included), from /proc."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(entry)
        if fields is None:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, stack, seen = 0.0, list(roots), set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += times.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all cores, from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
