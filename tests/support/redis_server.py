"""A redis-server of a test's own (the rate-limit, fault and replication tests kill it)."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path


def start_redis(port: int) -> tuple[subprocess.Popen[bytes], str]:
    """`redis-server` on 127.0.0.1:`port` (no persistence), once it accepts connections; if
    it exits or never listens, the error carries what it said."""
    log = Path(tempfile.mkdtemp(prefix="open287g-redis-")) / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607
                "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(log.parent)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    process.kill()
    process.wait()
    said = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"redis-server did not start on port {port}:\n{said}")
