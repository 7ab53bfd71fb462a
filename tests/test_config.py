"""Settings parsing: defaults, environment names of the spec, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from open287g.config import Settings, get_settings, to_asyncpg_url


def test_defaults_follow_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "OPEN287G_DATA_DIR", "OPEN287G_MIN_CELL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.data_dir == Path(".data")
    assert settings.min_cell == 5


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5433/x")
    monkeypatch.setenv("OPEN287G_DATA_DIR", "/var/lib/open287g")
    monkeypatch.setenv("OPEN287G_MIN_CELL", "11")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgresql://u@replica/x")
    settings = Settings()
    assert settings.data_dir == Path("/var/lib/open287g")
    assert settings.min_cell == 11
    assert settings.database_replica_url == "postgresql://u@replica/x"
    url = to_asyncpg_url(settings.database_url or "")
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+asyncpg",
        "db.example",
        5433,
        "x",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
        ("not a url", "not a database URL"),
        ("sqlite:///x.db", "needs PostgreSQL"),
    ],
)
def test_bad_database_url_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_bad_min_cell_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPEN287G_MIN_CELL", "0")
    with pytest.raises(ValidationError, match="OPEN287G_MIN_CELL"):
        Settings()


def test_settings_are_read_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("OPEN287G_MIN_CELL", "7")
    first = get_settings()
    monkeypatch.setenv("OPEN287G_MIN_CELL", "9")
    assert get_settings() is first
    assert first.min_cell == 7
    get_settings.cache_clear()


def test_commands_refuse_a_bad_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from open287g.cli import main

    get_settings.cache_clear()
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/x")
    try:
        assert main(["db", "migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("error: invalid configuration")
    assert "open287g needs PostgreSQL" in err
