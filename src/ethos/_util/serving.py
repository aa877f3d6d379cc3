"""Serving on this machine: the listening socket, whether a host is local, and running until stopped."""

from __future__ import annotations

import ipaddress
import signal
import socket
import threading
from types import FrameType
from typing import Any

from ethos.errors import ConfigError

__all__ = ["bind", "is_loopback", "run_until_stopped"]

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is only reachable locally."""
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port), listening before anything is printed.

    Early clients then queue instead of being refused, and ``port 0`` can be reported as chosen.

    Raises:
        ConfigError: The address cannot be bound (in use, not this machine's, no permission).
    """
    bare = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bare, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}; choose another --port or --host") from None
    return sock


def run_until_stopped(server: Any, sock: socket.socket) -> None:
    """Run ``server`` (a ``uvicorn.Server``) on the bound ``sock``; return when it is stopped.

    uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    that was there before. A no-op SIGTERM handler and a caught ``KeyboardInterrupt`` make that a
    plain return. The socket is closed either way.
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _ignore) if in_main else None
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        sock.close()


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM after the graceful shutdown is done: nothing left to do."""
