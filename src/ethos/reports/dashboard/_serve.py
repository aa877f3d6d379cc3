"""Serving the dashboard: which hosts it may bind, and uvicorn with a clean Ctrl-C."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from ethos._util.serving import bind, is_loopback, run_until_stopped
from ethos.errors import ConfigError

__all__ = ["PUBLIC_HOST_WARNING", "bind", "check_host", "is_loopback", "serve"]

PUBLIC_HOST_WARNING = (
    "the dashboard has no login: anyone who can reach {host}:{port} can read every run in the database; "
    "bind to 127.0.0.1 unless you mean this"
)


def check_host(host: str, port: int, *, explicit: bool) -> str | None:
    """Refuse a non-loopback host unless the user gave it as a flag; return a warning for one.

    Args:
        host: The address to bind.
        port: The port, for the warning.
        explicit: Whether it came from ``--host`` (not from the environment or a config file).

    Returns:
        ``None`` for a loopback host, else the warning to print.

    Raises:
        ConfigError: ``host`` is not loopback and did not come from ``--host``.
    """
    if is_loopback(host):
        return None
    if not explicit:
        raise ConfigError(
            f"refusing to serve the dashboard on {host!r} from ETHOS_DASHBOARD_HOST: it has no login and would "
            f"expose every run; pass --host {host} explicitly if you mean it"
        )
    return PUBLIC_HOST_WARNING.format(host=host, port=port)


def serve(app: Any, sock: socket.socket, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C (SIGINT) or SIGTERM; open requests finish first (up to 3 s).

    Args:
        app: The ASGI app.
        sock: A bound socket (see :func:`bind`).
        on_started: Called from a helper thread once the server accepts connections.
    """
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", ws="none", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    if on_started is not None:
        threading.Thread(target=_when_started, args=(server, on_started), daemon=True).start()
    run_until_stopped(server, sock)


def _when_started(server: Any, callback: Callable[[], None]) -> None:
    # Polls uvicorn's `started` flag: uvicorn has no start-up callback outside the ASGI lifespan.
    import time

    deadline = time.monotonic() + 30
    while not server.started and not server.should_exit and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        callback()
