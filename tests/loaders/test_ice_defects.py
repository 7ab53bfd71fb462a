"""Each defect class of the ICE spreadsheets, on small hand-made files, and hostile files
that must fail cleanly with the database unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.ingest import provenance
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.load import FileResult, load_sources, plan_sources
from open287g.loaders.sources import read_path
from tests.support.fixtures import PENDING_HEADER, SAFELINK, Link, ice_xlsx, write, zip_bomb

SETTINGS = Settings(max_unzipped_bytes=8 * 1024 * 1024)
TABLES = (
    "agencies", "agreements", "agreement_observations", "snapshots", "source_files",
    "load_runs", "load_issues", "changes", "jurisdictions",
)  # fmt: skip
PARTICIPATING = "participatingAgencies07012025am.xlsx"


async def load(conn: AsyncConnection, *paths: Path) -> list[FileResult]:
    return await load_sources(conn, plan_sources([str(p) for p in paths]), SETTINGS)


async def table_counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return counts


async def issues(conn: AsyncConnection, run_id: int) -> list[tuple[int, str | None, str, str]]:
    rows = await conn.execute(
        text(
            'SELECT row_number, "column", CAST(action AS text), reason FROM load_issues'
            " WHERE load_run_id = :run ORDER BY row_number, id"
        ),
        {"run": run_id},
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def agreement(conn: AsyncConnection, agency: str) -> dict[str, object]:
    row = (
        await conn.execute(
            text(
                "SELECT g.*, a.name AS agency_name, a.type AS agency_type, a.county"
                " FROM agreements g JOIN agencies a ON a.id = g.agency_id WHERE a.name = :name"
            ),
            {"name": agency},
        )
    ).one()
    return dict(row._mapping)


async def test_whitespace_misspelled_states_types_and_counties(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    data = ice_xlsx(
        [
            ("AlABAMA", "Alpha County Sheriff's Office ", "County", "Alpha County",
             "Task Force Model ", dt.datetime(2025, 5, 8), "link pending"),
            ("UTAHJ", "Beta\xa0City Police Department", "Municipal", "#N/A",
             "Warrant Service Officer", dt.datetime(2025, 4, 1), "link pending"),
            ("TEXAS", "Gamma County Sheriff's Office", None, "N/A",
             "Jail Enforcement Model", dt.datetime(2025, 4, 2), "link pending"),
            ("TEXAS", "Delta Police Department", "Municipality", "Decatur",
             "Task Force Model", dt.datetime(2025, 4, 3), "link pending"),
        ],
        trailing_blank_rows=3,
    )  # fmt: skip
    [result] = await load(conn, write(tmp_path, PARTICIPATING, data))
    assert result.counts.rows_read == 4
    assert result.counts.inserted == 4
    assert result.counts.rejected == 0

    alpha = await agreement(conn, "Alpha County Sheriff's Office")
    assert (alpha["state_code"], alpha["model_code"]) == ("AL", "TASK_FORCE")
    beta = await agreement(conn, "Beta City Police Department")
    assert (beta["state_code"], beta["agency_type"], beta["county"]) == (
        "UT", "MUNICIPALITY", None,
    )  # fmt: skip
    gamma = await agreement(conn, "Gamma County Sheriff's Office")
    assert gamma["agency_type"] == "COUNTY"
    assert gamma["county"] is None
    assert result.load_run_id is not None
    reported = await issues(conn, result.load_run_id)
    assert (3, "STATE", "REPAIRED", "misspelled state read as Utah") in reported
    assert any(r[:3] == (4, "TYPE", "REPAIRED") and "inferred COUNTY" in r[3] for r in reported)
    # Gamma's county comes from its name, but Texas has no Gamma County (the gazetteer
    # says so): the agency keeps its state and the miss is reported.
    county = await conn.execute(
        text(
            "SELECT a.name, j.kind, j.name FROM agencies a JOIN jurisdictions j"
            " ON j.id = a.jurisdiction_id WHERE a.state_code = 'TX' ORDER BY a.name"
        )
    )
    assert [tuple(r) for r in county] == [
        ("Delta Police Department", "PLACE", "Delta"),
        ("Gamma County Sheriff's Office", "STATE", "Texas"),
    ]
    assert any(
        r[:3] == (4, "LAW ENFORCEMENT AGENCY", "REPAIRED") and "keeps its state only" in r[3]
        for r in reported
    )


async def test_dates_links_and_duplicates(conn: AsyncConnection, tmp_path: Path) -> None:
    moa = "https://www.ice.gov/doclib/287gMOA/direct.pdf"
    data = ice_xlsx(
        [
            ("FLORIDA", "A County Sheriff's Office", "County", "A County", "Task Force Model",
             "05/082025", Link("link", SAFELINK.format(name="a_tfm"))),
            ("FLORIDA", "B County Sheriff's Office", "County", "B County", "Task Force Model",
             45658, Link("link\xa0|\xa0addendum", moa),
             Link("link", SAFELINK.format(name="b_addendum"))),
            ("FLORIDA", "C County Sheriff's Office", "County", "C County", "Task Force Model",
             "7/7/2025", "link pending"),
            ("FLORIDA", "C County Sheriff's Office", "County", "C County", "Task Force Model",
             "7/7/2025", "link pending"),
            ("FLORIDA", "C County Sheriff's Office", "County", "C County", "Task Force Model",
             "7/8/2025", "link pending"),
            ("FLORIDA", "D County Sheriff's Office", "County", "D County", "Task Force Model",
             dt.datetime(2025, 1, 2), Link("link", "https://evil.example.com/x.pdf")),
        ]
    )  # fmt: skip
    [result] = await load(conn, write(tmp_path, PARTICIPATING, data))
    assert result.load_run_id is not None
    a = await agreement(conn, "A County Sheriff's Office")
    assert a["signed_on"] is None
    assert a["signed_raw"] == "05/082025"
    assert a["moa_url"] == "https://www.ice.gov/doclib/287gMOA/a_tfm.pdf"
    b = await agreement(conn, "B County Sheriff's Office")
    assert b["signed_on"] == dt.date(2025, 1, 1)  # Excel serial 45658
    assert b["moa_url"] == moa
    assert b["addendum_urls"] == ["https://www.ice.gov/doclib/287gMOA/b_addendum.pdf"]
    c = await agreement(conn, "C County Sheriff's Office")
    assert c["signed_on"] == dt.date(2025, 7, 7)
    assert c["moa_url"] is None
    d = await agreement(conn, "D County Sheriff's Office")
    assert d["moa_url"] is None

    reported = await issues(conn, result.load_run_id)
    assert (2, "SIGNED", "REPAIRED", "date cannot be read unambiguously; kept as text") in reported
    assert (5, None, "REPAIRED", "exact duplicate of row 4; dropped") in reported
    assert any(r[:3] == (6, None, "REJECTED") and "row 4" in r[3] for r in reported)
    assert (7, "MOA", "REPAIRED", "link does not point to ice.gov; dropped") in reported
    assert result.counts.rejected == 1
    assert result.counts.inserted == 4


async def test_pending_layout_and_header_below_a_preamble(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    data = ice_xlsx(
        [("GEORGIA", "E County Sheriff's Office", "County", "E County", "Jail Enforcement Model")],
        header=PENDING_HEADER,
        preamble=("287(g) Pending Agencies", "As of today"),
    )
    [result] = await load(conn, write(tmp_path, "pendingAgencies07012025pm.xlsx", data))
    e = await agreement(conn, "E County Sheriff's Office")
    assert e["status"] == "PENDING"
    assert e["first_seen"] == dt.date(2025, 7, 1)
    assert result.counts.inserted == 1


async def test_same_file_twice_changes_nothing(conn: AsyncConnection, tmp_path: Path) -> None:
    data = ice_xlsx(
        [("OHIO", "F County Sheriff's Office", "County", "F County", "Task Force Model",
          dt.datetime(2025, 3, 1), "link pending")]
    )  # fmt: skip
    path = write(tmp_path, PARTICIPATING, data)
    [first] = await load(conn, path)
    before = await table_counts(conn)
    [second] = await load(conn, path)
    assert first.load_run_id is not None
    assert second.unchanged_file
    assert (second.counts.inserted, second.counts.unchanged) == (0, 1)
    assert await table_counts(conn) == before


async def test_status_transitions_and_out_of_order_loads(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    g = ("IOWA", "G County Sheriff's Office", "County", "G County", "Task Force Model")
    h = ("IOWA", "H County Sheriff's Office", "County", "H County", "Task Force Model")
    signed = (dt.datetime(2025, 6, 1), "link pending")
    pending_june = write(tmp_path, "pendingAgencies06012025am.xlsx", ice_xlsx([g], PENDING_HEADER))
    july = write(tmp_path, "participatingAgencies07012025am.xlsx", ice_xlsx([(*g, *signed)]))
    june = write(tmp_path, "participatingAgencies06012025am.xlsx", ice_xlsx([(*h, *signed)]))

    await load(conn, pending_june, july)
    g_row = await agreement(conn, "G County Sheriff's Office")
    assert (g_row["status"], g_row["first_seen"], g_row["activated_on"]) == (
        "ACTIVE", dt.date(2025, 6, 1), dt.date(2025, 7, 1),
    )  # fmt: skip
    # An older list loaded afterwards: H was on it and is absent from the newest list.
    [late] = await load(conn, june)
    assert (await agreement(conn, "G County Sheriff's Office"))["status"] == "ACTIVE"
    h_row = await agreement(conn, "H County Sheriff's Office")
    assert (h_row["status"], h_row["last_seen"]) == ("ENDED", dt.date(2025, 6, 1))
    assert late.counts.inserted == 1


async def test_failure_mid_load_leaves_database_unchanged(
    conn: AsyncConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write(
        tmp_path,
        PARTICIPATING,
        ice_xlsx(
            [
                (
                    "MAINE",
                    "I County Sheriff's Office",
                    "County",
                    "I County",
                    "Task Force Model",
                    dt.datetime(2025, 3, 1),
                    "link pending",
                )
            ]
        ),
    )
    before = await table_counts(conn)

    async def broken_issue_writer(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(provenance, "insert_issues", broken_issue_writer)
    with pytest.raises(RuntimeError, match="disk full"):
        await load(conn, good)
    assert await table_counts(conn) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"STATE,LAW ENFORCEMENT AGENCY\nTEXAS,X\n", "not a valid .xlsx file (a CSV or text file)"),
        (b"PK\x03\x04 truncated", "not a valid .xlsx file (broken zip"),
        (zip_bomb(16 * 1024 * 1024), "possible zip bomb"),
        (ice_xlsx([]), "the sheet has no readable data rows"),
        (
            ice_xlsx([("TEXAS", "J Office", "County", "J County")], header=PENDING_HEADER[:4]),
            "missing required column(s): SUPPORT TYPE",
        ),
        (ice_xlsx([("X",)], header=("NAME",)), "no header row found"),
        (
            ice_xlsx([("NARNIA", f"K{i}", "County", "K", "Task Force Model") for i in range(3)],
                     header=PENDING_HEADER),
            "3 of 3 rows rejected",
        ),
    ],
    ids=["csv-renamed", "truncated-zip", "zip-bomb", "empty-sheet", "missing-column",
         "no-header", "mostly-rejected"],
)  # fmt: skip
async def test_hostile_files_fail_cleanly(
    conn: AsyncConnection, tmp_path: Path, data: bytes, message: str
) -> None:
    before = await table_counts(conn)
    path = write(tmp_path, PARTICIPATING, data)
    with pytest.raises(LoadError) as failure:
        await load(conn, path)
    assert message in str(failure.value)
    assert str(path) in str(failure.value)
    assert await table_counts(conn) == before


def test_kind_and_date_must_be_known_before_anything_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "agencies.xlsx", ice_xlsx([]))
    with pytest.raises(LoadError, match="pass --kind"):
        plan_sources([str(path)])
    with pytest.raises(LoadError, match="pass --as-of"):
        plan_sources([str(path)], kind=SnapshotKind.PENDING)
    [planned] = plan_sources([str(path)], kind=SnapshotKind.PENDING, as_of=dt.date(2025, 1, 2))
    assert planned.published_on == dt.date(2025, 1, 2)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, PARTICIPATING, b"PK" + b"\0" * 4096)
    with pytest.raises(LoadError, match="the limit is 2,048"):
        read_path(str(path), 2048)
