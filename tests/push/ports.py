"""Loopback ports that a test can close and bind again later.

A port picked with bind(0) comes from the kernel's ephemeral range, the same range outgoing
connections take their source ports from: while a test keeps its listener down, a connection
to PostgreSQL or Redis could be given that very port and the listener could not come back.
Ports below the ephemeral range are only ever taken by an explicit bind.
"""

import random
import socket
from pathlib import Path

LOWEST = 10000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def reusable_port() -> int:
    """A free loopback port outside the ephemeral range."""
    candidates = list(range(LOWEST, _ephemeral_start()))
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")
