"""A release that says it is synthetic is labelled so (outside review D): a file whose
every row has `data_source=synthetic` was loaded as real unless `--synthetic` was given.
Now it is labelled synthetic with a load note; a file mixing synthetic and other rows is
refused, leaving the database as it was; a file without the column is what the flag says.
Read back through the real app's /v1/datasets."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.errors import LoadError
from tests.support.fixtures import MAKE_DETAINERS, app_client, make_detainers

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine) as client:
        yield client


def rewrite(source: Path, target: Path, data_source: dict[int, str | None]) -> Path:
    """The release with row i's data_source set (None: the column dropped)."""
    with source.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    fields = [f for f in rows[0] if f != "data_source" or None not in data_source.values()]
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fields, extrasaction="ignore")
        writer.writeheader()
        for i, row in enumerate(rows):
            if i in data_source and data_source[i] is not None:
                row["data_source"] = str(data_source[i])
            writer.writerow(row)
    return target


async def datasets(http: httpx.AsyncClient) -> dict[str, bool]:
    rows = (await http.get("/v1/datasets")).json()["data"]
    return {row["name"]: row["is_synthetic"] for row in rows}


async def test_a_release_of_synthetic_rows_is_labelled_synthetic(
    engine: AsyncEngine, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    release = make_detainers(tmp_path / "all.csv", rows=300, fmt="csv", seed=5)
    with release.open(newline="", encoding="utf-8") as file:
        assert {row["data_source"] for row in csv.DictReader(file)} == {"synthetic"}
    await load_detainer_source(engine, str(release), Settings())  # no --synthetic
    assert (await datasets(http))["all.csv"] is True
    async with engine.connect() as conn:
        labelled = "SELECT reason FROM load_issues WHERE \"column\" = 'data_source'"
        notes = (await conn.scalars(text(labelled))).all()
    assert any("labelled synthetic" in note for note in notes)
    # Without the column, the flag decides as before.
    plain = rewrite(release, tmp_path / "plain.csv", dict.fromkeys(range(300)))
    await load_detainer_source(engine, str(plain), Settings())
    assert (await datasets(http))["plain.csv"] is False


async def test_a_release_mixing_synthetic_and_other_rows_is_refused(
    engine: AsyncEngine, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    release = make_detainers(tmp_path / "base.csv", rows=300, fmt="csv", seed=6)
    mixed = rewrite(release, tmp_path / "mixed.csv", dict.fromkeys(range(0, 300, 3), "ice-foia"))
    before = await datasets(http)
    with pytest.raises(LoadError, match="200 of 300 rows say data_source=synthetic"):
        await load_detainer_source(engine, str(mixed), Settings())
    assert await datasets(http) == before
