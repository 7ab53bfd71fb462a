"""Detainer releases: every format of the shared generator, dirty files, re-loads,
overlapping releases, facility matching, rounding of personal breakdowns, the derived
publication tables, and files that must fail cleanly."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.queries.detainers import DetainerDimension as D
from open287g.db.queries.detainers import (
    DetainerFilter,
    detainer_stats,
    facility_names,
)
from open287g.db.queries.ids import to_global_id
from open287g.db.reference_data import STATES
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.errors import LoadError
from open287g.loaders.facility_overrides import FACILITY_OVERRIDES
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.sources import SourceDocument
from tests.support.fixtures import HARRIS_SHERIFF, MAKE_DETAINERS, ice_xlsx, make_detainers, write

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")

SETTINGS = Settings()
USPS = {state.name.upper(): state.usps for state in STATES}
OUTCOMES = {
    "": "PENDING",
    "Detainer Declined by LEA": "DECLINED_BY_AGENCY",
    "Booked into Detention": "BOOKED_INTO_DETENTION",
}
Totals = Counter[tuple[str, dt.date, str]]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("detainers")
    return {
        "csv": make_detainers(folder / "release.csv", rows=6000, fmt="csv"),
        "parquet": make_detainers(folder / "release.parquet", rows=6000, fmt="parquet"),
        "xlsx": make_detainers(folder / "release.xlsx", rows=6000, fmt="xlsx"),
        "dirty": make_detainers(folder / "dirty.csv", rows=20000, fmt="csv", dirty=True, seed=9),
    }


def expected_totals(path: Path) -> tuple[Totals, int]:
    """(state, month, outcome) → detainers, computed here from the raw CSV with the rules
    the README documents; and the number of rows a correct load must reject."""
    totals: Totals = Counter()
    seen: set[tuple[str, ...]] = set()
    rejected = 0
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            key = tuple(row.values())
            if key in seen:
                continue
            seen.add(key)
            raw_date = row["detainer_prepare_date"].strip()
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_date):
                day = dt.date.fromisoformat(raw_date)
            elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", raw_date):
                day = dt.datetime.strptime(raw_date, "%m/%d/%Y").date()
            else:
                rejected += 1
                continue
            state = row["facility_state"].strip().upper()
            # A blank state is the facility's: synthetic facility codes end in its USPS code.
            code = USPS[state] if state else row["detention_facility_code"][-2:]
            lift = row["detainer_lift_reason"].strip()
            totals[(code, day.replace(day=1), OUTCOMES.get(lift, "OTHER_LIFTED"))] += 1
    return totals, rejected


def release_csv(tmp_path: Path, name: str, header: str, lines: list[str]) -> Path:
    """A small release; a unique_id column keeps repeated rows from being duplicates."""
    body = (
        header.rstrip("\n")
        + ",unique_id\n"
        + "".join(f"{line.rstrip()},{number}\n" for number, line in enumerate(lines))
    )
    return write(tmp_path, name, body.encode())


async def loaded_totals(conn: AsyncConnection) -> Totals:
    rows = await detainer_stats(conn, [D.STATE, D.MONTH, D.OUTCOME], DetainerFilter(), min_cell=5)
    totals: Totals = Counter()
    for row in rows:
        assert row.issued is not None
        state, month, outcome = row.key[D.STATE], row.key[D.MONTH], row.key[D.OUTCOME]
        assert isinstance(state, str)
        assert isinstance(month, dt.date)
        assert isinstance(outcome, str)
        totals[(state, month, outcome)] = row.issued
    return totals


@pytest.mark.parametrize("variant", ["csv", "parquet", "xlsx"])
async def test_every_format_gives_the_totals_of_the_raw_rows(
    conn: AsyncConnection, files: dict[str, Path], variant: str
) -> None:
    expected, _ = expected_totals(files["csv"])  # same seed: the same rows in every format
    result = await load_detainer_source(conn, str(files[variant]), SETTINGS, is_synthetic=True)
    assert result.load_run_id is not None
    assert result.counts.rows_read == 6000
    assert result.counts.rejected == 0
    assert await loaded_totals(conn) == expected
    synthetic = (
        await conn.execute(
            text("SELECT is_synthetic FROM source_files WHERE dataset = 'detainers'")
        )
    ).scalar_one()
    assert synthetic is True


async def test_dirty_file_is_repaired_or_rejected_per_reason(
    conn: AsyncConnection, files: dict[str, Path]
) -> None:
    expected, rejected = expected_totals(files["dirty"])
    result = await load_detainer_source(conn, str(files["dirty"]), SETTINGS)
    assert result.counts.rejected == rejected > 0
    assert await loaded_totals(conn) == expected
    reasons: dict[str, int] = dict(
        (
            await conn.execute(
                text(
                    "SELECT reason, sum(rows) FROM load_issues WHERE load_run_id = :run GROUP BY 1"
                ),
                {"run": result.load_run_id},
            )
        ).all()
    )
    assert reasons["unreadable date"] == rejected
    for repaired in (
        "exact duplicate row dropped",
        "non-ISO date read",
        "blank state taken from the facility's other rows",
        "padded text trimmed",
    ):
        assert reasons[repaired] > 0


async def test_reload_is_idempotent_and_overlaps_never_double_count(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    header = "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason\n"
    first = release_csv(
        tmp_path,
        "a.csv",
        header,
        ["2025-01-05,TEXAS,X COUNTY JAIL,"] + ["2025-02-05,TEXAS,X COUNTY JAIL,"] * 3,
    )
    second = release_csv(
        tmp_path,
        "b.csv",
        header,
        ["2025-02-09,TEXAS,X COUNTY JAIL,"] + ["2025-03-09,TEXAS,X COUNTY JAIL,"] * 2,
    )

    async def by_month() -> dict[object, int | None]:
        rows = await detainer_stats(conn, [D.MONTH], DetainerFilter(), min_cell=5)
        return {row.key[D.MONTH]: row.issued for row in rows}

    await load_detainer_source(conn, str(first), SETTINGS)
    again = await load_detainer_source(conn, str(first), SETTINGS)
    assert again.load_run_id is None
    assert await by_month() == {dt.date(2025, 1, 1): 1, dt.date(2025, 2, 1): 3}
    kept = await load_detainer_source(conn, str(second), SETTINGS, fill_gaps=True)
    assert kept.counts.unchanged == 1
    assert await by_month() == {
        dt.date(2025, 1, 1): 1,
        dt.date(2025, 2, 1): 3,
        dt.date(2025, 3, 1): 2,
    }


async def test_later_release_wins_for_the_months_it_covers(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    header = "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason\n"
    first = release_csv(tmp_path, "a.csv", header, ["2025-01-05,TEXAS,X COUNTY JAIL,"] * 4)
    second = release_csv(tmp_path, "b.csv", header, ["2025-01-06,TEXAS,X COUNTY JAIL,"] * 7)
    await load_detainer_source(conn, str(first), SETTINGS)
    result = await load_detainer_source(conn, str(second), SETTINGS)
    assert result.counts.updated == 1  # one cell of the earlier release replaced
    [row] = await detainer_stats(conn, [D.MONTH], DetainerFilter(), min_cell=5)
    assert row.issued == 7


async def test_aggregate_csv(conn: AsyncConnection, tmp_path: Path) -> None:
    body = (
        "period,state,facility,issued,declined,booked_into_detention,pending\n"
        "2025-03,TX,HARRIS COUNTY JAIL,100,10,50,20\n"
        "2025-03,Texas,DALLAS COUNTY JAIL,40,0,0,0\n"
        "2025-04,TX,HARRIS COUNTY JAIL,5,9,0,0\n"
    )
    result = await load_detainer_source(
        conn,
        str(write(tmp_path, "t.csv", body.encode())),
        SETTINGS.model_copy(update={"detainer_max_rejected_share": 0.5}),
    )
    assert result.layout == "aggregate"
    assert result.counts.rejected == 1  # declined > issued
    rows = await detainer_stats(conn, [D.FACILITY], DetainerFilter(state="TX"), min_cell=5)
    names = await facility_names(conn, "TX")  # uncoded: keyed by the Facility's id
    harris = next(r for r in rows if names[str(r.key[D.FACILITY])] == "HARRIS COUNTY JAIL")
    assert (harris.issued, harris.declined, harris.booked_into_detention, harris.pending) == (
        100,
        10,
        50,
        20,
    )
    assert harris.decline_rate == pytest.approx(10 / 80)


async def test_uncoded_facilities_of_one_name_stay_apart(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    """Two jails without a code and with the same name, in two states (an aggregate CSV
    without facility_code), are two facilities: two rows by facility, each keyed by its
    Facility id, which the facility filter takes; in a personal breakdown too."""
    body = (
        "period,state,facility,issued,declined,booked_into_detention,pending\n"
        "2025-03,NE,REGIONAL DETENTION CENTER,30,3,10,5\n"
        "2025-03,KS,REGIONAL DETENTION CENTER,12,0,2,1\n"
    )
    await load_detainer_source(conn, str(write(tmp_path, "t.csv", body.encode())), SETTINGS)
    ids = {
        state: to_global_id("Facility", key)
        for state, key in (
            await conn.execute(
                text(
                    "SELECT state_code, id FROM detainer_facilities WHERE nullif(code, '') IS NULL"
                )
            )
        ).all()
    }
    assert set(ids) == {"NE", "KS"}
    rows = await detainer_stats(conn, [D.STATE, D.FACILITY], DetainerFilter(), min_cell=5)
    assert {(r.key[D.STATE], r.key[D.FACILITY], r.issued) for r in rows} == {
        ("NE", ids["NE"], 30),
        ("KS", ids["KS"], 12),
    }
    for state, issued in (("NE", 30), ("KS", 12)):
        [one] = await detainer_stats(
            conn, [D.FACILITY], DetainerFilter(facility=ids[state]), min_cell=5
        )
        assert (one.key[D.FACILITY], one.issued) == (ids[state], issued)
        assert await facility_names(conn, state) == {ids[state]: "REGIONAL DETENTION CENTER"}
    rounded = await detainer_stats(conn, [D.FACILITY, D.CRIMINALITY], DetainerFilter(), min_cell=5)
    assert {r.key[D.FACILITY] for r in rounded} == set(ids.values())


def _floor_ceil(count: int, base: int) -> set[int]:
    return {count // base * base, -(-count // base) * base}


async def test_personal_breakdowns_are_rounded_cells_that_add_up(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    """A breakdown by citizenship publishes each finest cell rounded to a multiple of
    min_cell (down or up), each margin's rounded sum is its exact total rounded down or up,
    and every coarser row is its own truth rounded down or up (#22); totals without a
    personal attribute stay exact."""
    header = (
        "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason,"
        "citizenship_country\n"
    )
    lines = (
        ["2025-01-05,TEXAS,X COUNTY JAIL,,MEXICO\n"] * 20
        + ["2025-01-05,TEXAS,X COUNTY JAIL,,HONDURAS\n"] * 9
        + ["2025-01-05,TEXAS,X COUNTY JAIL,,CUBA\n"] * 2
        + ["2025-01-05,IOWA,Y COUNTY JAIL,,CUBA\n"] * 3
        + ["2025-01-05,IOWA,Y COUNTY JAIL,,PERU\n"] * 6
    )
    await load_detainer_source(conn, str(release_csv(tmp_path, "s.csv", header, lines)), SETTINGS)
    truth = {
        ("TX", "MEXICO"): 20,
        ("TX", "HONDURAS"): 9,
        ("TX", "CUBA"): 2,
        ("IA", "CUBA"): 3,
        ("IA", "PERU"): 6,
    }
    rows = await detainer_stats(conn, [D.STATE, D.CITIZENSHIP], DetainerFilter(), min_cell=5)
    cells = {(r.key[D.STATE], r.key[D.CITIZENSHIP]): r.issued or 0 for r in rows}
    assert all(r.rounded and not r.suppressed for r in rows)
    assert all(r.issued is not None and r.issued > 0 and r.issued % 5 == 0 for r in rows)
    published = {key: cells.get(key, 0) for key in truth}
    assert set(cells) <= set(truth)  # cells that round to 0 are not listed
    for key, count in truth.items():
        assert published[key] in _floor_ceil(count, 5), key
    assert published[("TX", "MEXICO")] == 20  # a multiple of the base is never moved
    assert sum(v for (state, _), v in published.items() if state == "TX") in {30, 35}
    assert sum(v for (state, _), v in published.items() if state == "IA") in {5, 10}
    for row in rows:  # all detainers are pending here: nothing decided, no rate
        assert row.pending == row.issued
        assert row.decline_rate is None
    # Coarser breakdowns are rounded from their own counts (#22), never summed from rounded
    # cells: each within base − 1 of its truth; the finest agrees with the state's cells
    # (each facility is alone in its state here: the same records, the same margins).
    by_country = await detainer_stats(conn, [D.CITIZENSHIP], DetainerFilter(), min_cell=5)
    for country in {c for _, c in truth}:
        total = sum(v for (_, c), v in truth.items() if c == country)
        found = [r.issued for r in by_country if r.key[D.CITIZENSHIP] == country]
        assert (found or [0])[0] in _floor_ceil(total, 5), country
    finest = await detainer_stats(
        conn,
        [D.STATE, D.FACILITY, D.MONTH, D.OUTCOME, D.CRIMINALITY, D.CITIZENSHIP],
        DetainerFilter(),
        min_cell=5,
    )
    assert {(r.key[D.STATE], r.key[D.CITIZENSHIP]): r.issued for r in finest} == {
        key: value for key, value in published.items() if value
    }
    # Without a personal attribute nothing is rounded.
    totals = await detainer_stats(conn, [D.STATE], DetainerFilter(), min_cell=5)
    assert {r.key[D.STATE]: r.issued for r in totals} == {"TX": 31, "IA": 9}
    assert not any(r.rounded for r in totals)
    # Another base rounds to its multiples (the API's OPEN287G_MIN_CELL).
    tens = await detainer_stats(conn, [D.STATE, D.CITIZENSHIP], DetainerFilter(), min_cell=10)
    assert all(r.issued is not None and r.issued % 10 == 0 for r in tens)


async def test_a_lone_detainer_is_never_placed(conn: AsyncConnection, tmp_path: Path) -> None:
    """Regression (issue #10.1): a facility-month-outcome group holding one detainer, or
    one cell of 1 (mod base) detainers, rounded up to the base would pin the cell down
    (the exact total says it holds them all). Such groups are rounded down: 1 → nothing
    listed, 6 → 5, 11 → 10, whatever the keys."""
    header = (
        "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason,"
        "citizenship_country\n"
    )
    lines = [f"2025-01-05,TEXAS,J{n} COUNTY JAIL,,BRAZIL\n" for n in range(40)]
    lines += ["2025-01-05,TEXAS,SIX COUNTY JAIL,,PERU\n"] * 6
    lines += ["2025-01-05,TEXAS,ELEVEN COUNTY JAIL,,CUBA\n"] * 11
    await load_detainer_source(conn, str(release_csv(tmp_path, "l.csv", header, lines)), SETTINGS)
    rows = await detainer_stats(conn, [D.FACILITY, D.CITIZENSHIP], DetainerFilter(), min_cell=5)
    names = await facility_names(conn, "TX")  # uncoded jails: keyed by their ids
    assert {(names[str(r.key[D.FACILITY])], r.key[D.CITIZENSHIP]): r.issued for r in rows} == {
        ("SIX COUNTY JAIL", "PERU"): 5,
        ("ELEVEN COUNTY JAIL", "CUBA"): 10,
    }
    exact = await detainer_stats(conn, [D.FACILITY], DetainerFilter(), min_cell=5)
    assert len(exact) == 42
    assert not any(r.rounded for r in exact)


async def test_publication_tables_follow_every_write(conn: AsyncConnection, tmp_path: Path) -> None:
    """The derived tables are kept by triggers: after loads, a replacing release and a
    direct delete they equal a recomputation from detainer_stats."""

    async def consistent() -> None:
        for table, columns in (
            ("detainer_cells", "facility_id, month, outcome, criminality, citizenship"),
            ("detainer_totals", "facility_id, month, outcome"),
        ):
            derived = (await conn.execute(text(f"SELECT {columns}, detainers FROM {table}"))).all()
            recomputed = (
                await conn.execute(
                    text(f"SELECT {columns}, sum(count) FROM detainer_stats GROUP BY {columns}")
                )
            ).all()
            assert sorted(map(tuple, derived)) == sorted(map(tuple, recomputed))

    header = (
        "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason,"
        "citizenship_country\n"
    )
    first = ["2025-01-05,TEXAS,X COUNTY JAIL,,MEXICO\n"] * 4
    first += ["2025-02-05,TEXAS,X COUNTY JAIL,Booked into Detention,PERU\n"] * 3
    await load_detainer_source(conn, str(release_csv(tmp_path, "a.csv", header, first)), SETTINGS)
    await consistent()
    second = ["2025-02-07,IOWA,Y COUNTY JAIL,,CUBA\n"] * 2
    await load_detainer_source(conn, str(release_csv(tmp_path, "b.csv", header, second)), SETTINGS)
    await consistent()
    months = (await conn.execute(text("SELECT DISTINCT month FROM detainer_cells"))).scalars()
    assert sorted(months) == [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    await conn.execute(text("DELETE FROM detainer_stats WHERE month = '2025-01-01'"))
    await consistent()
    await conn.execute(text("TRUNCATE detainer_stats"))
    await consistent()


async def test_facilities_match_counties_and_sheriffs_in_either_order(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    header = "detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason\n"
    jails = ["2025-01-05,TEXAS,HARRIS COUNTY JAIL,", "2025-01-05,TEXAS,QUEENS CENTRAL BOOKING,"]
    header = header.replace("\n", ",facility_city\n")
    jails = [jails[0] + ",HOUSTON", jails[1] + ",NOWHERE"]
    release = release_csv(tmp_path, "d.csv", header, jails)
    await load_detainer_source(conn, str(release), SETTINGS)
    ice = write(
        tmp_path,
        "participatingAgencies07012025am.xlsx",
        ice_xlsx([HARRIS_SHERIFF]),
    )
    await load_sources(conn, plan_sources([str(ice)]), SETTINGS)
    matched: dict[str, str | None] = dict(
        (
            await conn.execute(
                text(
                    "SELECT f.name, f.match_method || ':' || coalesce(a.name, '') || ':'"
                    " || f.county_fips || ':' || f.placement_method || ':' || f.agency_method"
                    " FROM detainer_facilities f LEFT JOIN agencies a ON a.id = f.agency_id"
                )
            )
        ).all()
    )
    assert matched == {
        "HARRIS COUNTY JAIL": "county+sheriff:Harris County Sheriff's Office:48201:"
        "facility-name:exact:county-sheriff",
        "QUEENS CENTRAL BOOKING": None,
    }
    # Statistics group and filter by the jail's county and the agency running it, by id (#22).
    agency, county = (
        await conn.execute(
            text(
                "SELECT agency_id, jurisdiction_id FROM detainer_facilities"
                " WHERE name = 'HARRIS COUNTY JAIL'"
            )
        )
    ).one()
    ids = (to_global_id("Agency", agency), to_global_id("Jurisdiction", county))
    by_agency = await detainer_stats(conn, [D.AGENCY, D.JURISDICTION], DetainerFilter(), min_cell=5)
    assert {(r.key[D.AGENCY], r.key[D.JURISDICTION]): r.issued for r in by_agency} == {
        ids: 1,
        (None, None): 1,
    }
    sheriff = DetainerFilter.read({"agency": ids[0], "jurisdiction": ids[1]})
    [row] = await detainer_stats(conn, [D.STATE], sheriff, min_cell=5)
    assert (row.key[D.STATE], row.issued) == ("TX", 1)


async def test_facilities_are_placed_by_name_or_city(conn: AsyncConnection, tmp_path: Path) -> None:
    """#22: a jail whose name gives no county is placed through its city (QUEENS CENTRAL
    BOOKING, QUEENS NY → Queens County, 36081), and jails of the same name in two states
    in their own counties (ORANGE COUNTY JAIL: 06059 in CA, 12095 in FL)."""
    header = (
        "detainer_prepare_date,facility_state,detention_facility,detention_facility_code,"
        "facility_city,detainer_lift_reason\n"
    )
    jails = [
        "2025-01-05,NEW YORK,QUEENS CENTRAL BOOKING,QUEENNY,QUEENS,",
        "2025-01-05,CALIFORNIA,ORANGE COUNTY JAIL,ORANGCA,SANTA ANA,",
        "2025-01-05,FLORIDA,ORANGE COUNTY JAIL,ORANGFL,ORLANDO,",
    ]
    await load_detainer_source(conn, str(release_csv(tmp_path, "p.csv", header, jails)), SETTINGS)
    placed = (
        await conn.execute(
            text(
                "SELECT f.code, f.county_fips, f.placement_method, j.fips, j.name"
                " FROM detainer_facilities f LEFT JOIN jurisdictions j ON j.id = f.jurisdiction_id"
                " ORDER BY f.code"
            )
        )
    ).all()
    assert [tuple(row) for row in placed] == [
        ("ORANGCA", "06059", "facility-name:exact", "06059", "Orange County"),
        ("ORANGFL", "12095", "facility-name:exact", "12095", "Orange County"),
        ("QUEENNY", "36081", "facility-city:county-named", "36081", "Queens County"),
    ]
    # A reviewed override wins (like lineage overrides); a row naming no county is rejected.
    overrides = SourceDocument(
        "facility-overrides.csv",
        b"code,county_fips,agency,agency_state,note\n"
        b"QUEENNY,36061,,,booked in Manhattan\n"
        b"ORANGFL,99999,,,no such county\n",
    )
    _, counts = await FACILITY_OVERRIDES.load(conn, overrides)
    assert (counts.inserted, counts.rejected) == (1, 1)
    queens = await conn.execute(
        text(
            "SELECT f.county_fips, f.placement_method, j.name FROM detainer_facilities f"
            " JOIN jurisdictions j ON j.id = f.jurisdiction_id WHERE f.code = 'QUEENNY'"
        )
    )
    assert tuple(queens.one()) == ("36061", "override", "New York County")


async def test_no_person_level_columns_are_stored(conn: AsyncConnection) -> None:
    columns = set(
        (
            await conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name IN ('detainer_stats', 'detainer_facilities')"
                )
            )
        ).scalars()
    )
    personal = {
        "unique_id",
        "subject_id",
        "alien_file_number",
        "birth_year",
        "gender",
        "birth_country",
        "detainer_prepare_date",
    }
    assert not columns & personal


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"detainer_prepare_date,facility_state,detention_facility\n2025-01-01,TX,X\n",
            "missing required column(s): detainer_lift_reason",
        ),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary content"),
        (
            b"detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason\n",
            "the file has no data rows",
        ),
        (
            b"detainer_prepare_date,facility_state,detention_facility,detainer_lift_reason\n"
            + b"".join(b"N/A,TEXAS,X%d JAIL,\n" % i for i in range(5))
            + b"2025-01-01,TEXAS,X JAIL,\n",
            "5 of 6 rows rejected",
        ),
    ],
    ids=["missing-column", "wrong-type", "empty", "mostly-rejected"],
)
async def test_bad_files_fail_and_change_nothing(
    conn: AsyncConnection, tmp_path: Path, content: bytes, message: str
) -> None:
    before = (await conn.execute(text("SELECT count(*) FROM source_files"))).scalar_one()
    with pytest.raises(LoadError, match=re.escape(message)):
        await load_detainer_source(conn, str(write(tmp_path, "bad.csv", content)), SETTINGS)
    assert (await conn.execute(text("SELECT count(*) FROM source_files"))).scalar_one() == before


async def test_truncated_parquet_fails_cleanly(
    conn: AsyncConnection, files: dict[str, Path], tmp_path: Path
) -> None:
    data = files["parquet"].read_bytes()
    truncated = write(tmp_path, "cut.parquet", data[: len(data) // 2] + b"PAR1")
    before = (await conn.execute(text("SELECT count(*) FROM detainer_stats"))).scalar_one()
    with pytest.raises(LoadError, match="parquet"):
        await load_detainer_source(conn, str(truncated), SETTINGS)
    assert (await conn.execute(text("SELECT count(*) FROM detainer_stats"))).scalar_one() == before
