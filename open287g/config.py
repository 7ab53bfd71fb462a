"""Typed settings, read from the environment once and only when first asked for.

Nothing reads the environment at import time, so tests and commands can set variables
before the first `get_settings()` call and clear the cache with `get_settings.cache_clear()`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ICE_287G_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
"""ICE's 287(g) page: it links the current participating and pending lists."""
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"}


def to_asyncpg_url(url: str) -> URL:
    """The SQLAlchemy URL for asyncpg, whatever PostgreSQL spelling the user gave.

    Users paste `postgres://` (Heroku), `postgresql://` (libpq) or SQLAlchemy forms; the
    server only ever talks asyncpg.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r} (expected postgresql://…)") from exc
    if parsed.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: open287g needs PostgreSQL "
            "(postgresql://user:password@host:5432/dbname)"
        )
    return parsed.set(drivername="postgresql+asyncpg")


class Settings(BaseSettings):
    """Every setting the service reads; README "Configuration" documents each one."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded server."
    )
    database_replica_url: str | None = Field(
        default=None, description="Read replica for API reads; loads always use DATABASE_URL."
    )
    redis_url: str | None = Field(
        default=None, description="Shared response cache; unset means an in-process cache."
    )
    data_dir: Path = Field(
        default=Path(".data"),
        validation_alias="OPEN287G_DATA_DIR",
        description="Where the embedded database lives.",
    )
    min_cell: int = Field(
        default=5,
        ge=1,
        validation_alias="OPEN287G_MIN_CELL",
        description="Smallest count published in a breakdown by a personal attribute.",
    )
    min_margin: int = Field(
        default=20,
        ge=1,
        validation_alias="OPEN287G_MIN_MARGIN",
        description="Smallest margin (a row without its personal dimensions, one measure) "
        "whose breakdown by a personal attribute is published; smaller ones are withheld.",
    )
    max_upload_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        validation_alias="OPEN287G_MAX_FILE_BYTES",
        description="Largest spreadsheet a loader accepts, compressed.",
    )
    max_unzipped_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        validation_alias="OPEN287G_MAX_UNZIPPED_BYTES",
        description="Largest total an xlsx may expand to; guards against zip bombs.",
    )
    max_sheet_rows: int = Field(
        default=100_000,
        ge=100,
        validation_alias="OPEN287G_MAX_SHEET_ROWS",
        description="Rows a sheet of an ICE list may have (refused past it, while reading).",
    )
    max_sheet_cells: int = Field(
        default=2_000_000,
        ge=1000,
        validation_alias="OPEN287G_MAX_SHEET_CELLS",
        description="Cells a sheet of an ICE list may have (refused past it, while reading).",
    )
    max_detainer_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        validation_alias="OPEN287G_MAX_DETAINER_BYTES",
        description="Largest detainer release a loader accepts.",
    )
    detainer_max_rejected_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        validation_alias="OPEN287G_DETAINER_MAX_REJECTED_SHARE",
        description="A detainer load fails when a larger share of its rows is rejected.",
    )
    response_cache: bool = Field(
        default=True,
        validation_alias="OPEN287G_RESPONSE_CACHE",
        description="Cache GET responses of /v1 and /graphql, keyed to the data version.",
    )
    version_check_seconds: float = Field(
        default=1.0,
        ge=0,
        validation_alias="OPEN287G_VERSION_CHECK_SECONDS",
        description="How long the response cache trusts the data version it last read.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias="OPEN287G_PUBLIC_URL",
        description="Base of every absolute link (feeds, Link headers, pages, redirects); "
        "never the request's Host header, which a client controls. `open287g serve` "
        "sets it from --host and --port when it is not set.",
    )
    contact_email: str = Field(
        default="open287g@example.org",
        validation_alias="OPEN287G_CONTACT_EMAIL",
        description="Who answers for this deployment's data: the DCAT catalog's "
        "`contactPoint` (/data.json). Set it: the default reaches nobody.",
    )
    contact_name: str = Field(
        default="open287g maintainers",
        validation_alias="OPEN287G_CONTACT_NAME",
        description="The name on the DCAT catalog's `contactPoint`.",
    )
    publisher_name: str = Field(
        default="open287g",
        validation_alias="OPEN287G_PUBLISHER_NAME",
        description="The organization publishing this deployment: DCAT's `publisher`.",
    )
    publisher_url: str | None = Field(
        default=None,
        validation_alias="OPEN287G_PUBLISHER_URL",
        description="The publisher's web site, if any: DCAT's `publisher` carries it.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        validation_alias="OPEN287G_MAX_BODY_BYTES",
        description="Largest request body accepted (413 before reading more).",
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=4096,
        validation_alias="OPEN287G_MAX_HEADER_BYTES",
        description="Largest request head (request line and headers) `serve` reads (431).",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        validation_alias="OPEN287G_HEADER_TIMEOUT",
        description="Seconds `serve` waits for a complete request head (408, then closed).",
    )
    max_connections: int = Field(
        default=10_000,
        ge=1,
        validation_alias="OPEN287G_MAX_CONNECTIONS",
        description="Open connections `serve` holds per process; at the limit the one idle "
        "longest is closed to make room (503 only when all are busy). Also kept under the "
        "file-descriptor limit.",
    )
    max_connections_per_client: int = Field(
        default=256,
        ge=1,
        validation_alias="OPEN287G_MAX_CONNECTIONS_PER_CLIENT",
        description="Open connections `serve` accepts from one client address per process "
        "(more: 503 and closed); --forwarded-allow-ips addresses are exempt.",
    )
    rate_limit_per_second: float = Field(
        default=50.0,
        ge=0,
        validation_alias="OPEN287G_RATE_LIMIT_PER_SECOND",
        description="Tokens a client's bucket regains per second; 0 turns rate limiting off.",
    )
    rate_limit_burst: int = Field(
        default=600,
        ge=1,
        validation_alias="OPEN287G_RATE_LIMIT_BURST",
        description="Tokens a client's bucket holds (the largest burst).",
    )
    http_timeout: float = Field(
        default=30.0,
        gt=0,
        validation_alias="OPEN287G_HTTP_TIMEOUT",
        description="Seconds before a download from a URL source gives up.",
    )
    statement_timeout: float = Field(
        default=5.0,
        gt=0,
        validation_alias="OPEN287G_STATEMENT_TIMEOUT",
        description="Seconds any one SQL statement of an API request may run (then 503).",
    )
    lock_timeout: float = Field(
        default=1.0,
        gt=0,
        validation_alias="OPEN287G_LOCK_TIMEOUT",
        description="Seconds an API statement may wait for a lock a load holds (then 503).",
    )
    pool_timeout: float = Field(
        default=2.0,
        gt=0,
        validation_alias="OPEN287G_POOL_TIMEOUT",
        description="Seconds a request waits for a free database connection (then 503).",
    )
    max_exports: int = Field(
        default=8,
        ge=1,
        validation_alias="OPEN287G_MAX_EXPORTS",
        description="CSV/NDJSON exports one process serves at once (more: 503).",
    )
    export_timeout: float = Field(
        default=60.0,
        gt=0,
        validation_alias="OPEN287G_EXPORT_TIMEOUT",
        description="Seconds an export may spend reading the database (then 503).",
    )
    log_format: Literal["json", "plain"] = Field(
        default="json",
        validation_alias="OPEN287G_LOG_FORMAT",
        description="`open287g serve` logs: one JSON object per line, or plain text.",
    )
    ice_page_url: str = Field(
        default=ICE_287G_PAGE,
        validation_alias="OPEN287G_ICE_PAGE_URL",
        description="The page `open287g sync` reads the list links from.",
    )
    sync_every_minutes: float = Field(
        default=30.0,
        gt=0,
        validation_alias="OPEN287G_SYNC_EVERY",
        description="Minutes between `open287g sync` passes (each with up to 10% jitter).",
    )
    sync_archive_dir: Path = Field(
        default=Path(".data/ice-287g-archive"),
        validation_alias="OPEN287G_SYNC_ARCHIVE_DIR",
        description="Where `open287g sync` keeps every downloaded file, named by sha256.",
    )
    sync_max_drop_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        validation_alias="OPEN287G_SYNC_MAX_DROP_SHARE",
        description="A list that would drop a larger share of its kind's agreements at once "
        "is quarantined.",
    )
    sync_stale_after: int = Field(
        default=3,
        ge=1,
        validation_alias="OPEN287G_SYNC_STALE_AFTER",
        description="Failed sync passes in a row after which /readyz says `stale`.",
    )
    sync_moas: bool = Field(
        default=True,
        validation_alias="OPEN287G_SYNC_MOAS",
        description="`open287g sync` also loads the MOAs of agreements that have none yet.",
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
            raise ValueError(f"OPEN287G_PUBLIC_URL must be an http(s) base URL, not {value!r}")
        return value.rstrip("/")

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _check_postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        to_asyncpg_url(value)
        return value


def local_url(host: str, port: int) -> str:
    """The public URL `open287g serve --host HOST --port PORT` implies when
    OPEN287G_PUBLIC_URL is not set: a wildcard address is reached on loopback."""
    reachable = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://{f'[{reachable}]' if ':' in reachable else reachable}:{port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
