"""The policy CSV loader: the shared example file, bad rows, bad files, re-loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.loaders.errors import LoadError
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import SourceDocument, read_path
from tests.support.environment import SHARED_DATA

BRIEF_CSV = SHARED_DATA / "policies" / "brief-named-states.csv"
HEADER = (
    "jurisdiction_level,state,name,fips,status,declared_sanctuary,policy_name,"
    "effective_date,source_title,source_url,notes\n"
)


def document(body: str, name: str = "policies.csv") -> SourceDocument:
    return SourceDocument(name=name, data=body.encode())


async def current(conn: AsyncConnection) -> list[tuple[str, str, str, bool]]:
    rows = await conn.execute(
        text(
            "SELECT j.state_code, CAST(j.kind AS text), CAST(p.status AS text),"
            " p.declared_sanctuary FROM policies p JOIN jurisdictions j"
            " ON j.id = p.jurisdiction_id ORDER BY 1, 2"
        )
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


@pytest.mark.skipif(not BRIEF_CSV.is_file(), reason=f"{BRIEF_CSV} not present")
async def test_the_shared_brief_file(conn: AsyncConnection) -> None:
    loaded = read_path(str(BRIEF_CSV), 10**6)
    run_id, counts = await load_policy_document(conn, loaded, Settings())
    assert run_id is not None
    assert (counts.inserted, counts.rejected) == (6, 0)
    assert await current(conn) == [
        (state, "STATE", "RESTRICTS", True) for state in ("CA", "DE", "IL", "MA", "ME", "NM")
    ]
    again, counts = await load_policy_document(conn, loaded, Settings())
    assert again is None
    assert counts.unchanged == 6


async def test_bad_rows_are_rejected_with_reasons(conn: AsyncConnection) -> None:
    body = HEADER + (
        "county,texas,Harris,48201,LIMITS,false,Jail policy,2024-01-15,Src,https://x.test,\n"
        "state,Narnia,Narnia,,RESTRICTS,true,,,,,\n"
        "state,TX,Texas,,SOMETIMES,false,,,,,\n"
        "city,TX,Austin,,LIMITS,maybe,,,,,\n"
        "city,TX,Austin,,LIMITS,false,,2024-13-01,,,\n"
        "village,TX,Smallville,,LIMITS,false,,,,,\n"
    )
    run_id, counts = await load_policy_document(conn, document(body), Settings())
    assert (counts.rows_read, counts.inserted, counts.rejected) == (6, 1, 5)
    reasons = (
        await conn.execute(
            text('SELECT row_number, "column" FROM load_issues WHERE load_run_id = :r ORDER BY 1'),
            {"r": run_id},
        )
    ).all()
    assert [tuple(r) for r in reasons] == [
        (3, "state"), (4, "status"), (5, "declared_sanctuary"), (6, "effective_date"),
        (7, "jurisdiction_level"),
    ]  # fmt: skip
    assert await current(conn) == [("TX", "COUNTY", "LIMITS", False)]


async def test_a_changed_claim_updates_in_place(conn: AsyncConnection) -> None:
    row = "state,ME,Maine,23,{},true,,,Brief,https://x.test/brief,\n"
    await load_policy_document(conn, document(HEADER + row.format("RESTRICTS")), Settings())
    _, counts = await load_policy_document(
        conn, document(HEADER + row.format("LIMITS")), Settings()
    )
    assert (counts.inserted, counts.updated) == (0, 1)
    assert await current(conn) == [("ME", "STATE", "LIMITS", True)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"state,name\nTX,Texas\n", "missing required column(s): jurisdiction_level"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (HEADER.encode(), "the file has no data rows"),
    ],
)
async def test_bad_files_fail_and_write_nothing(
    conn: AsyncConnection, data: bytes, message: str
) -> None:
    before = (await conn.execute(text("SELECT count(*) FROM source_files"))).scalar_one()
    with pytest.raises(LoadError, match=re.escape(message)):
        await load_policy_document(conn, SourceDocument("bad.csv", data), Settings())
    assert (await conn.execute(text("SELECT count(*) FROM source_files"))).scalar_one() == before


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        read_path(str(tmp_path / "nope.csv"), 100)
