"""Fixtures for the gateway's end-to-end tests: a real gateway on loopback in front of a real upstream.

``gw`` is one gateway per upstream kind (``openai`` and ``ollama``, the test runs for both), shared
by a module, in front of the session's tiny-model :class:`LoopbackServer`; its faults and request
log are reset around every test. ``make_gateway`` starts a gateway with its own settings (PII, limits,
timeouts) for one test. Every gateway has its own key database and audit directory in a temp dir.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.gateway import GatewayServer, ScriptedUpstream, gateway_config, issue_key
from tests.helpers.servers import LoopbackServer

KINDS = ("openai", "ollama")

# The keys every gateway gets, by name: the scope each is created with.
STANDARD_KEYS: dict[str, dict[str, Any]] = {
    "user": {},
    "admin": {"admin": True},
    "embed_only": {"endpoints": ["embedding"]},
    "other_model": {"models": ["some-other-model"]},
    "no_log": {"log_content": False},
}


@dataclass
class Gw:
    """A running gateway and what a test needs to talk to it.

    Attributes:
        kind: The upstream's wire format.
        server: The gateway's server (``url``, ``openai_url``).
        upstream_url: The upstream's root URL.
        home: Its temp dir (``keys.db``, ``audit/``).
        tokens: Secret tokens of the keys created at start, by name (see ``STANDARD_KEYS``).
        config: The :class:`GatewayConfig` it runs with.
    """

    kind: str
    server: GatewayServer
    upstream_url: str
    home: Path
    tokens: dict[str, str]
    config: Any
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        """The gateway's root URL (the Ollama base URL)."""
        return self.server.url

    @property
    def openai_url(self) -> str:
        """``url + "/v1"`` (the OpenAI base URL)."""
        return self.server.openai_url

    @property
    def audit_dir(self) -> Path:
        """Where the audit log is written."""
        return self.home / "audit"

    @property
    def keys_path(self) -> Path:
        """The key database."""
        return self.home / "keys.db"

    def auth(self, name: str = "user") -> dict[str, str]:
        """The ``Authorization`` header of a named key."""
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def stop(self) -> None:
        """Stop the gateway (its lifespan drains the audit writer); safe to call twice."""
        if not self.stopped:
            self.stopped = True
            self.server.stop()


def start_gateway(
    kind: str,
    upstream_url: str,
    home: Path,
    keys: dict[str, dict[str, Any]] | None = None,
    tls: tuple[Path, Path] | None = None,
    **sections: Any,
) -> Gw:
    """Create keys, build the app and serve it (HTTPS with ``tls=(cert, key)``); ``sections`` override config."""
    from ethos.gateway._app import create_app
    from ethos.gateway._keys import KeyStore

    home.mkdir(parents=True, exist_ok=True)
    config = gateway_config(upstream_url, kind, home, **sections)
    admin_store = KeyStore(home / "keys.db")
    tokens = {name: issue_key(admin_store, name, **scope) for name, scope in (keys or STANDARD_KEYS).items()}
    graceful = config.server.graceful_timeout_s if "server" in sections else 2.0
    certfile, keyfile = tls or (None, None)
    app = create_app(config, keys=KeyStore(home / "keys.db"))
    server = GatewayServer(app, graceful_s=graceful, certfile=certfile, keyfile=keyfile)
    server.start()
    return Gw(kind, server, upstream_url, home, tokens, config)


@pytest.fixture(scope="module", params=KINDS)
def gw_shared(
    request: pytest.FixtureRequest, loopback_server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gw]:
    """One gateway per upstream kind for the whole module."""
    gw = start_gateway(request.param, loopback_server.url, tmp_path_factory.mktemp(f"gw-{request.param}"))
    yield gw
    gw.stop()


@pytest.fixture
def gw(gw_shared: Gw, loopback_server: LoopbackServer) -> Iterator[Gw]:
    """The module's gateway, with the upstream's faults and request log clean before and after."""
    loopback_server.reset()
    yield gw_shared
    loopback_server.reset()


@pytest.fixture
def upstream(loopback_server: LoopbackServer) -> Iterator[LoopbackServer]:
    """The tiny-model server behind ``gw`` (faults and request log reset around the test)."""
    loopback_server.reset()
    yield loopback_server
    loopback_server.reset()


@pytest.fixture
def make_gateway(tmp_path: Path, loopback_server: LoopbackServer) -> Iterator[Callable[..., Gw]]:
    """Start gateways with their own settings: ``make_gateway("openai", pii={"enabled": True})``.

    ``upstream_url`` defaults to the tiny-model server; ``keys`` replaces the standard key set;
    ``tls=(cert, key)`` serves HTTPS.
    Every gateway started is stopped after the test.
    """
    started: list[Gw] = []
    loopback_server.reset()

    def make(
        kind: str,
        *,
        upstream_url: str | None = None,
        keys: dict[str, dict[str, Any]] | None = None,
        tls: tuple[Path, Path] | None = None,
        **sections: Any,
    ) -> Gw:
        home = tmp_path / f"gw{len(started)}"
        gw = start_gateway(kind, upstream_url or loopback_server.url, home, keys, tls, **sections)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()
    loopback_server.reset()


@pytest.fixture(scope="module")
def scripted_shared() -> Iterator[ScriptedUpstream]:
    """A scripted upstream for the module (see :class:`ScriptedUpstream`)."""
    with ScriptedUpstream() as server:
        yield server


@pytest.fixture
def scripted(scripted_shared: ScriptedUpstream) -> Iterator[ScriptedUpstream]:
    """The module's scripted upstream with an empty request log."""
    scripted_shared.script.requests.clear()
    yield scripted_shared
    scripted_shared.script.requests.clear()
    scripted_shared.script.pieces = ["ok"]
    scripted_shared.script.deltas = None
