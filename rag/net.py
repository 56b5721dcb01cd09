"""Network helpers for what this package starts on loopback itself (``rag bench``'s server, a local
PostgreSQL, the tests' servers)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port that is free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
