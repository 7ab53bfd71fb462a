"""Ports the tests' servers listen on (load_tests/server.py `free_port`): never one the
kernel may hand to an outgoing connection, never one a browser refuses to fetch from."""

from __future__ import annotations

from load_tests.server import _ephemeral_range, free_port

# The Fetch standard's "bad ports" above 1023 (browsers refuse to load these).
BAD_PORTS = {1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566}
BAD_PORTS |= {6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}


def test_free_ports_are_safe_for_browsers_and_outside_the_ephemeral_range() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(300)]
    assert not BAD_PORTS & set(ports)
    assert all(max(BAD_PORTS) < port < low for port in ports)
