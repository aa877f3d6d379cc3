"""Running a uvicorn server until SIGTERM or Ctrl-C, where stopping is the normal end."""

from __future__ import annotations

import signal
import socket
import threading
from types import FrameType
from typing import Any

__all__ = ["run_until_stopped"]


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
