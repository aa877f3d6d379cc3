"""The gateway's client for its upstream model server: one aiohttp session, kept-alive connections.

aiohttp costs far less CPU per request than httpx (shared/reference/baseline-gateway.md), and the
session is made once, at start-up: a per-request session would pay TLS and TCP set-up every time.
Timeouts come from ``[upstream]``: ``connect_timeout_s`` to connect, ``timeout_s`` for a whole
non-streamed reply, and ``timeout_s`` *between reads* of a stream (a long answer may take longer
than that in total, as long as it keeps coming).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ethos.errors import ConfigError, ServerTimeoutError, ServerUnreachableError
from ethos.gateway._config import UpstreamConfig
from ethos.gateway._types import Endpoint, Format
from ethos.gateway._wire import decode_stream


@dataclass(frozen=True)
class UpstreamReply:
    """A non-streamed reply.

    Attributes:
        status: The HTTP status.
        body: The parsed JSON body, or the raw text when it is not JSON (``None`` when empty).
    """

    status: int
    body: Any


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class UpstreamStream:
    """An open streamed reply; iterate :meth:`events` once, then :meth:`aclose`.

    Attributes:
        status: The HTTP status (a non-200 stream holds an error body: :meth:`read_error`).
    """

    def __init__(self, response: aiohttp.ClientResponse, kind: Format, url: str, read_timeout: float) -> None:
        """Wrap an open response from ``url`` of an upstream speaking ``kind``."""
        self._response = response
        self._kind = kind
        self._url = url
        self._read_timeout = read_timeout
        self.status = response.status

    async def read_error(self) -> Any:
        """The body of a non-200 reply, parsed as JSON when it is JSON."""
        try:
            return _parse(await self._response.read())
        except (TimeoutError, aiohttp.ClientError):
            return None

    def events(self, endpoint: Endpoint) -> AsyncIterator[dict[str, Any]]:
        """Canonical chunks as they arrive (see :func:`ethos.gateway._wire.decode_stream`).

        Raises:
            ServerTimeoutError: (while iterating) no bytes came for ``timeout_s``.
            ServerUnreachableError: (while iterating) the connection broke or ended early.
        """
        return decode_stream(self._kind, endpoint, self._chunks())

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ServerTimeoutError(
                f"{self._url} sent nothing for {self._read_timeout:g} s in the middle of a stream"
            ) from None
        except aiohttp.ClientError as exc:
            raise ServerUnreachableError(f"the stream from {self._url} broke: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        """Release the connection (back to the pool when the reply was read to its end)."""
        self._response.release()


class Upstream:
    """The upstream model server, as the gateway calls it.

    Attributes:
        kind: The upstream's wire format.
        base_url: The configured URL without a trailing slash.
    """

    def __init__(self, config: UpstreamConfig, *, max_connections: int = 256) -> None:
        """Prepare a client for ``config``; :meth:`start` opens the session."""
        self.config = config
        self.kind: Format = config.kind
        self.base_url = config.url.rstrip("/")
        # A whole reply must come within timeout_s; a stream may take any time while bytes keep coming.
        self._whole_timeout = aiohttp.ClientTimeout(total=config.timeout_s, connect=config.connect_timeout_s)
        self._read_timeout = aiohttp.ClientTimeout(
            total=None, connect=config.connect_timeout_s, sock_read=config.timeout_s
        )
        # What error messages (which callers read) call it: never the URL's user:password part.
        self._shown = _without_userinfo(self.base_url)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.config.api_key_env:
            key = os.environ.get(self.config.api_key_env)
            if not key:
                raise ConfigError(
                    f"[upstream] api_key_env names {self.config.api_key_env}, which is not set; "
                    "export it or remove api_key_env"
                )
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def start(self) -> None:
        """Open the session and its keep-alive connection pool."""
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30, enable_cleanup_closed=True)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.config.connect_timeout_s)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers=self._headers(),
            auto_decompress=True,
            trust_env=False,
            json_serialize=json.dumps,
        )

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("Upstream.start() was not called")
        return self._session

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> UpstreamReply:
        """Send one request and read the whole reply.

        Raises:
            ServerUnreachableError: The connection failed (the message names the URL).
            ServerTimeoutError: No whole reply within ``timeout_s``.
        """
        url, shown = self.base_url + path, self._shown + path
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            async with self._open().request(method, url, data=data, timeout=self._whole_timeout) as response:
                raw = await response.read()
                return UpstreamReply(response.status, _parse(raw))
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ServerTimeoutError(f"{shown} did not answer within {self.config.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise ServerUnreachableError(f"cannot reach {shown}: {_describe(exc)}") from None

    async def stream(self, path: str, body: dict[str, Any]) -> UpstreamStream:
        """Send a streamed request; return once the reply's status and headers are in.

        Raises:
            ServerUnreachableError: The connection failed (the message names the URL).
            ServerTimeoutError: No reply headers within ``timeout_s``.
        """
        url, shown = self.base_url + path, self._shown + path
        read = self.config.timeout_s
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            response = await self._open().post(url, data=data, timeout=self._read_timeout)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ServerTimeoutError(f"{shown} did not start answering within {read:g} s") from None
        except aiohttp.ClientError as exc:
            raise ServerUnreachableError(f"cannot reach {shown}: {_describe(exc)}") from None
        return UpstreamStream(response, self.kind, shown, read)

    async def raw(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str], AsyncIterator[bytes]]:
        """Pass a request through unchanged; the reply's body streams (Ollama's pull progress).

        Raises:
            ServerUnreachableError: The connection failed.
            ServerTimeoutError: No reply headers within ``timeout_s``.
        """
        url, shown = self.base_url + path, self._shown + path
        try:
            response = await self._open().request(
                method, url, data=body or None, headers=dict(headers), timeout=self._read_timeout
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ServerTimeoutError(f"{shown} did not answer within {self.config.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise ServerUnreachableError(f"cannot reach {shown}: {_describe(exc)}") from None
        return response.status, dict(response.headers), _relay(response, shown)


async def _relay(response: aiohttp.ClientResponse, url: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError):
        raise ServerUnreachableError(f"the reply from {url} broke off") from None
    finally:
        response.release()


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _describe(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed ({exc.os_error.strerror or type(exc.os_error).__name__})"
    return type(exc).__name__
