"""The officials CSV: matched to agencies by state and folded name; unmatched rows are
reported, not dropped; bad dates rejected; re-loads update in place."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.officials import OFFICIALS
from open287g.loaders.sources import SourceDocument
from tests.support.fixtures import HARRIS_SHERIFF, ice_xlsx, write

HEADER = "state,agency,name,title,term_start,term_end,source_url\n"


@pytest.fixture
async def agencies(conn: AsyncConnection, tmp_path: Path) -> None:
    rows = [
        HARRIS_SHERIFF,
        (
            "FLORIDA",
            "St. Cloud Police Department",
            "Municipality",
            "#N/A",
            "Task Force Model",
            dt.datetime(2025, 4, 15),
            "link pending",
        ),
    ]
    path = write(tmp_path, "participatingAgencies07012025am.xlsx", ice_xlsx(rows))
    await load_sources(conn, plan_sources([str(path)]), Settings())


def document(body: str) -> SourceDocument:
    return SourceDocument(name="officials.csv", data=(HEADER + body).encode())


async def officials(conn: AsyncConnection) -> list[tuple[str, str, str | None, object]]:
    rows = await conn.execute(
        text(
            "SELECT a.name, o.name, o.title, o.term_end FROM officials o"
            " JOIN agencies a ON a.id = o.agency_id ORDER BY o.name"
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


@pytest.mark.usefixtures("agencies")
async def test_officials_match_agencies_and_unmatched_rows_are_reported(
    conn: AsyncConnection,
) -> None:
    body = (
        "TX,HARRIS COUNTY SHERIFFS OFFICE,Ed Gonzalez,Sheriff,2017-01-01,,https://x.test/a\n"
        "Florida,St Cloud Police Department,Jane Doe,Chief of Police,2021-05-01,2025-12-31,\n"
        "TX,Nowhere County Sheriff's Office,John Roe,Sheriff,,,\n"
        "TX,Harris County Sheriff's Office,Ann Poe,Sheriff,2030-01-01,2020-01-01,\n"
        "TX,Harris County Sheriff's Office,Bob Moe,Sheriff,01/02/2020,,\n"
    )
    run_id, counts = await OFFICIALS.load(conn, document(body))
    assert (counts.rows_read, counts.inserted, counts.rejected) == (5, 2, 3)
    assert await officials(conn) == [
        ("Harris County Sheriff's Office", "Ed Gonzalez", "Sheriff", None),
        ("St. Cloud Police Department", "Jane Doe", "Chief of Police", dt.date(2025, 12, 31)),
    ]
    reported = (
        await conn.execute(
            text(
                'SELECT row_number, "column", reason FROM load_issues WHERE load_run_id = :r'
                " ORDER BY row_number"
            ),
            {"r": run_id},
        )
    ).all()
    assert [tuple(r) for r in reported] == [
        (4, "agency", "no agency of that name in TX"),
        (5, "term_end", "term ends before it starts"),
        (6, "term_start/term_end", "dates must be YYYY-MM-DD"),
    ]


@pytest.mark.usefixtures("agencies")
async def test_a_changed_term_updates_in_place(conn: AsyncConnection) -> None:
    row = "TX,Harris County Sheriff's Office,Ed Gonzalez,Sheriff,2017-01-01,{},\n"
    await OFFICIALS.load(conn, document(row.format("")))
    _, counts = await OFFICIALS.load(conn, document(row.format("2028-12-31")))
    assert (counts.inserted, counts.updated) == (0, 1)
    [(_, _, _, term_end)] = await officials(conn)
    assert term_end == dt.date(2028, 12, 31)


async def test_missing_column_fails_cleanly(conn: AsyncConnection) -> None:
    bad = SourceDocument(name="o.csv", data=b"state,name\nTX,Someone\n")
    with pytest.raises(LoadError, match=re.escape("missing required column(s): agency")):
        await OFFICIALS.load(conn, bad)
    assert (await conn.execute(text("SELECT count(*) FROM load_runs"))).scalar_one() == 0
