"""Disclosure control's Python side at its edges (db/queries/detainers.py), without a
database: which breakdowns are rounded, the published bound, the decline rate, the
filters (whole facilities and whole months only) and the statement each breakdown
compiles to: a personal dimension rounds from the finest cells by margin, with the base
and minimum margin bound as parameters, never formatted in. The rounding itself is SQL,
tested on PostgreSQL (tests/db/test_disclosure.py, tests/db/test_disclosure_margins.py).
`make mutate` measures how many of the module's mutants these kill."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.detainers import (
    BOUND_HEADER,
    PERSONAL_DIMENSIONS,
    DetainerDimension,
    DetainerFilter,
    DetainerStatRow,
    _count,
    detainer_stat_batches,
    detainer_stats,
    detainer_stats_query,
    detainers_loaded,
    facility_id_type,
    facility_key,
    facility_key_sql,
    facility_names,
    in_jurisdiction,
    in_jurisdiction_of,
    perturbation_bound,
)
from open287g.db.queries.ids import BadId, to_global_id
from open287g.db.queries.pagination import BadFilter

D = DetainerDimension


def test_only_criminality_and_citizenship_are_personal() -> None:
    assert {D.CRIMINALITY, D.CITIZENSHIP} == PERSONAL_DIMENSIONS
    assert BOUND_HEADER == "X-Perturbation-Bound"


@pytest.mark.parametrize(
    ("rounded", "base", "bound"),
    [(True, 5, 4), (True, 1, 0), (True, 0, 0), (False, 5, 0), (True, 2, 1)],
)
def test_the_published_bound(rounded: bool, base: int, bound: int) -> None:
    assert perturbation_bound(rounded, base) == bound


def _row(issued: int | None, declined: int | None, pending: int | None) -> DetainerStatRow:
    return DetainerStatRow({}, issued, declined, 0, pending)


def test_the_decline_rate_of_what_was_decided() -> None:
    assert _row(10, 3, 4).decline_rate == 0.5
    assert _row(10, 3, 0).decline_rate == 0.3
    assert _row(10, 0, 9).decline_rate == 0.0
    assert _row(10, 3, 10).decline_rate is None  # nothing decided
    assert _row(10, 3, 11).decline_rate is None
    assert _row(None, 3, 1).decline_rate is None
    assert _row(10, None, 1).decline_rate is None
    assert _row(10, 3, None).decline_rate is None
    row = DetainerStatRow({}, 1, 1, 1, 1)
    assert (row.rounded, row.suppressed, row.bound) == (False, False, 0)


def test_a_count_is_an_int_or_withheld() -> None:
    assert _count(Decimal("12")) == 12
    assert isinstance(_count(Decimal("12")), int)
    assert _count(0) == 0
    assert _count(None) is None


# --- filters -----------------------------------------------------------------------------

FACILITY_ID = to_global_id("Facility", 42)
AGENCY_ID = to_global_id("Agency", 7)
COUNTY_ID = to_global_id("Jurisdiction", 12)


def test_a_facility_is_a_code_part_of_a_name_or_a_facilitys_id() -> None:
    assert facility_key(FACILITY_ID) == 42
    assert facility_key(f"  {FACILITY_ID} ") == 42
    assert facility_key("ORANGCA") is None
    assert facility_key(AGENCY_ID) is None
    facility_id_type("ORANGCA")
    facility_id_type(FACILITY_ID)
    with pytest.raises(BadId, match=r"^facility ' \S+' is the id of an Agency, not of a Facility$"):
        facility_id_type(f" {AGENCY_ID}")


def detainer_filter(**given: object) -> DetainerFilter:
    """The filter as both APIs read it (`Where.read`: ids to keys, checked)."""
    return DetainerFilter.read(given)


def test_the_filter_of_both_apis() -> None:
    day = dt.date(2024, 1, 5)
    f = detainer_filter(state="FL", facility="ORANGCA", start=day, end=day,
                        jurisdiction=COUNTY_ID, agency=AGENCY_ID)  # fmt: skip
    assert f == DetainerFilter(state="FL", facility="ORANGCA", start=day, end=day,
                               jurisdiction=12, agency=7)  # fmt: skip
    assert detainer_filter() == DetainerFilter()
    with pytest.raises(BadFilter, match=r"^from \(2024-02-01\) is after to \(2024-01-31\)$"):
        detainer_filter(start=dt.date(2024, 2, 1), end=dt.date(2024, 1, 31))
    with pytest.raises(BadId):
        detainer_filter(facility=AGENCY_ID)
    with pytest.raises(BadId):
        detainer_filter(jurisdiction=AGENCY_ID)
    with pytest.raises(BadId):
        detainer_filter(agency=COUNTY_ID)
    assert detainer_filter(start=dt.date(2024, 2, 1)).get("start") == dt.date(2024, 2, 1)
    assert detainer_filter(end=dt.date(2024, 2, 1)).get("end") == dt.date(2024, 2, 1)


def test_facility_conditions() -> None:
    assert DetainerFilter().clauses() == ([], {})
    clauses, params = DetainerFilter(state="FL", jurisdiction=12, agency=7).clauses()
    assert clauses == [
        "f.state_code = :state", in_jurisdiction_of("f", "jurisdiction"), "f.agency_id = :agency",
    ]  # fmt: skip
    assert params == {"state": "FL", "jurisdiction": 12, "agency": 7}
    assert DetainerFilter(state="", jurisdiction=0, agency=0).clauses() == (
        [in_jurisdiction_of("f", "jurisdiction"), "f.agency_id = :agency"],
        {"jurisdiction": 0, "agency": 0},
    )


def test_filters_select_whole_facilities_and_whole_months() -> None:
    where, params = DetainerFilter(facility=" orangca ", start=dt.date(2024, 1, 15),
                                   end=dt.date(2024, 3, 31)).where()  # fmt: skip
    assert where == (
        "true AND (f.code = :code OR f.name ILIKE :facility ESCAPE '\\') "
        "AND s.month >= :start AND s.month <= :end"
    )
    assert params == {
        "code": "ORANGCA", "facility": "% orangca %", "start": dt.date(2024, 1, 1),
        "end": dt.date(2024, 3, 1),
    }  # fmt: skip
    where, params = DetainerFilter(facility=FACILITY_ID).where()
    assert (where, params) == ("true AND f.id = :facility_id", {"facility_id": 42})
    assert DetainerFilter().where() == ("true", {})
    assert DetainerFilter(state="FL", jurisdiction=12, agency=7).where() == (
        " AND ".join(["true", *DetainerFilter(state="FL", jurisdiction=12, agency=7).clauses()[0]]),
        {"state": "FL", "jurisdiction": 12, "agency": 7},
    )
    assert DetainerFilter(facility="100%_off").where()[1]["facility"] == "%100\\%\\_off%"


def test_sql_of_a_facility_key_and_a_jurisdiction() -> None:
    assert facility_key_sql("x").startswith("coalesce(nullif(x.code, ''), rtrim(")
    assert "'Facility:' || (x.id)" in facility_key_sql("x")
    sql = in_jurisdiction("f", "j")
    assert sql.startswith(
        "(CASE CAST(j.kind AS text) WHEN 'STATE' THEN f.state_code = j.state_code"
    )
    assert sql.endswith(" ELSE f.jurisdiction_id = j.id END)")
    assert "upper(f.city) = upper(j.name)" in sql
    assert "('NY', 'New York City', '36081')" in sql  # Queens, a county wholly inside the city
    assert in_jurisdiction_of("f", "p") == (
        f"EXISTS (SELECT FROM jurisdictions fj WHERE fj.id = :p AND {in_jurisdiction('f', 'fj')})"
    )


# --- statements --------------------------------------------------------------------------


def test_an_exact_breakdown_sums_the_exact_totals() -> None:
    query = detainer_stats_query([D.STATE, D.MONTH, D.STATE], DetainerFilter(state="FL"),
                                 base=5, min_margin=20)  # fmt: skip
    assert (query.dimensions, query.rounded) == ((D.STATE, D.MONTH), False)
    assert query.params == {"state": "FL"}  # no base: nothing is rounded
    assert "FROM detainer_totals s JOIN detainer_facilities f" in query.sql
    assert "WHERE true AND f.state_code = :state\n" in query.sql
    assert "SELECT state_code AS d0, month AS d1, sum(value) AS issued," in query.sql
    assert query.sql.endswith(
        "false AS suppressed FROM published GROUP BY d0, d1 HAVING sum(value) > 0 ORDER BY d0, d1"
    )
    assert "detainer_cells" not in query.sql
    assert f"{facility_key_sql('f')} AS facility" in query.sql


def test_an_exact_total_has_no_grouping() -> None:
    query = detainer_stats_query([], DetainerFilter(), base=5, min_margin=1)
    assert query.dimensions == ()
    assert query.sql.endswith("false AS suppressed FROM published HAVING sum(value) > 0")
    assert "GROUP BY" not in query.sql.split("WITH published AS")[1].split(")\n")[-1]


def test_every_dimension_has_its_column() -> None:
    query = detainer_stats_query(list(D), DetainerFilter(), base=5, min_margin=1)
    assert query.dimensions == tuple(D)
    assert query.rounded
    for i, d in enumerate(D):
        expected = {D.CRIMINALITY: f"crim AS d{i}, ", D.CITIZENSHIP: f"cit AS d{i}, "}
        assert expected.get(d, f"d{i}, ") in query.sql
    exact = detainer_stats_query([D.FACILITY, D.OUTCOME, D.AGENCY, D.JURISDICTION],
                                 DetainerFilter(), base=5, min_margin=1)  # fmt: skip
    assert (
        "SELECT facility AS d0, CAST(outcome AS text) AS d1, agency AS d2, jurisdiction AS d3,"
        in exact.sql
    )


def test_a_personal_breakdown_rounds_from_the_cells_by_margin() -> None:
    query = detainer_stats_query([D.STATE, D.CRIMINALITY], DetainerFilter(state="TX"),
                                 base=5, min_margin=20, scope="f.id > 0")  # fmt: skip
    assert (query.dimensions, query.rounded) == ((D.STATE, D.CRIMINALITY), True)
    assert query.params == {"state": "TX", "base": 5, "min_margin": 20}
    sql = query.sql
    assert "FROM detainer_cells s JOIN detainer_facilities f" in sql
    assert "WHERE true AND f.state_code = :state AND f.id > 0\n" in sql
    assert "SELECT f.state_code AS d0, s.criminality AS crim" in sql  # exact dimensions only
    assert "SELECT d0, crim, cit, m.i AS m" in sql  # the margin, then the atoms
    assert "GROUP BY d0, crim, cit, m.i" in sql
    assert "WINDOW margin AS (PARTITION BY d0, m), margins AS (PARTITION BY d0)" in sql
    assert "SELECT d0, crim AS d1, m, sum(n) AS n" in sql
    assert "SELECT d0, d1, CASE WHEN bool_or(w0)" in sql
    assert "GROUP BY d0, d1\nHAVING sum(value) > 0" in sql
    assert "SELECT d0, CAST(NULL AS text) AS d1, NULL, NULL, NULL, NULL, true" in sql
    assert "GROUP BY d0\nHAVING bool_or(w0)\nORDER BY d0, d1" in sql
    assert "% 2147483648" in sql
    assert ":base" in sql
    assert ":min_margin" in sql
    assert "{" not in sql  # every placeholder filled


def test_each_exact_dimension_is_part_of_the_margin() -> None:
    query = detainer_stats_query([D.STATE, D.MONTH, D.CITIZENSHIP], DetainerFilter(),
                                 base=5, min_margin=1)  # fmt: skip
    assert "SELECT f.state_code AS d0, s.month AS d1, s.criminality AS crim" in query.sql
    assert "SELECT d0, d1, crim, cit, m.i AS m" in query.sql
    assert "GROUP BY d0, d1, crim, cit, m.i" in query.sql
    assert "margins AS (PARTITION BY d0, d1)" in query.sql
    assert "SELECT d0, d1, cit AS d2, m" in query.sql
    assert "GROUP BY d0, d1\nHAVING bool_or(w0)" in query.sql


def test_a_breakdown_by_personal_dimensions_only_is_one_margin() -> None:
    query = detainer_stats_query([D.CITIZENSHIP, D.CRIMINALITY], DetainerFilter(),
                                 base=3, min_margin=1)  # fmt: skip
    sql = query.sql
    assert "SELECT s.criminality AS crim" in sql
    assert "SELECT crim, cit, m.i AS m" in sql
    assert "WINDOW margin AS (PARTITION BY m), margins AS ()" in sql
    assert "SELECT cit AS d0, crim AS d1, m, sum(n) AS n" in sql
    assert "SELECT CAST(NULL AS text) AS d0, CAST(NULL AS text) AS d1, NULL" in sql
    assert "GROUP BY ()\nHAVING bool_or(w0)" in sql
    assert query.params == {"base": 3, "min_margin": 1}


def test_a_breakdown_has_at_most_ten_dimensions() -> None:
    with pytest.raises(BadFilter):
        detainer_stats_query([D.STATE] * 11, DetainerFilter(), base=5, min_margin=1)
    assert detainer_stats_query([D.STATE] * 10, DetainerFilter(), base=5, min_margin=1)


# --- rows, from a connection that returns what the statement would -----------------------


class _Result:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows

    async def partitions(self, size: int) -> AsyncIterator[list[tuple[object, ...]]]:
        for start in range(0, len(self.rows), size):
            yield self.rows[start : start + size]

    def all(self) -> list[tuple[object, ...]]:
        return self.rows

    def one(self) -> tuple[object, ...]:
        [row] = self.rows
        return row


class _Connection:
    """Records the statement and parameters; answers with the rows it was given."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows
        self.statements: list[tuple[Any, dict[str, object]]] = []

    async def stream(self, statement: Any, params: dict[str, object]) -> _Result:
        self.statements.append((statement, params))
        return _Result(self.rows)

    async def execute(self, statement: Any, params: dict[str, object] | None = None) -> _Result:
        self.statements.append((statement, params or {}))
        return _Result(self.rows)

    async def scalar(self, statement: Any) -> object:
        self.statements.append((statement, {}))
        return self.rows[0][0] if self.rows else None


def _as_conn(fake: _Connection) -> AsyncConnection:
    return cast(AsyncConnection, fake)


async def test_rows_are_read_in_batches_with_their_flags_and_bound() -> None:
    rows: list[tuple[object, ...]] = [
        ("FL", "VIOLENT", Decimal(15), Decimal(5), Decimal(5), Decimal(0), False),
        ("FL", "NONE", None, None, None, None, True),
        ("TX", "VIOLENT", Decimal(10), Decimal(0), Decimal(5), Decimal(5), False),
    ]
    fake = _Connection(rows)
    batches = [
        batch
        async for batch in detainer_stat_batches(
            _as_conn(fake), [D.STATE, D.CRIMINALITY], DetainerFilter(state="FL"),
            min_cell=5, min_margin=20, batch_rows=2,
        )
    ]  # fmt: skip
    assert [len(batch) for batch in batches] == [2, 1]
    first, withheld, last = (row for batch in batches for row in batch)
    assert first == DetainerStatRow(
        {D.STATE: "FL", D.CRIMINALITY: "VIOLENT"}, 15, 5, 5, 0, rounded=True,
        suppressed=False, bound=4,
    )  # fmt: skip
    assert withheld == DetainerStatRow(
        {D.STATE: "FL", D.CRIMINALITY: "NONE"}, None, None, None, None, rounded=True,
        suppressed=True, bound=4,
    )  # fmt: skip
    assert (last.key, last.issued, last.pending) == (
        {D.STATE: "TX", D.CRIMINALITY: "VIOLENT"},
        10,
        5,
    )
    [(statement, params)] = fake.statements
    query = detainer_stats_query([D.STATE, D.CRIMINALITY], DetainerFilter(state="FL"),
                                 base=5, min_margin=20)  # fmt: skip
    assert str(statement) == query.sql
    assert statement.get_execution_options()["yield_per"] == 2
    assert params == {"state": "FL", "base": 5, "min_margin": 20}


async def test_exact_rows_have_no_bound() -> None:
    fake = _Connection(
        [(dt.date(2024, 1, 1), Decimal(3), Decimal(1), Decimal(1), Decimal(1), False)]
    )
    rows = await detainer_stats(_as_conn(fake), [D.MONTH], DetainerFilter(), min_cell=5)
    assert rows == [DetainerStatRow({D.MONTH: dt.date(2024, 1, 1)}, 3, 1, 1, 1)]
    [(_, params)] = fake.statements
    assert params == {}
    many = _Connection(
        [(Decimal(i), Decimal(0), Decimal(0), Decimal(0), False) for i in range(2001)]
    )
    assert len(await detainer_stats(_as_conn(many), [], DetainerFilter(), min_cell=5)) == 2001
    assert str(many.statements[0][0]).endswith("HAVING sum(value) > 0")
    rounded = _Connection([])
    await detainer_stats(_as_conn(rounded), [D.CITIZENSHIP], DetainerFilter(), min_cell=5,
                         min_margin=20)  # fmt: skip
    assert rounded.statements[0][1] == {"base": 5, "min_margin": 20}
    await detainer_stats(_as_conn(rounded), [D.CITIZENSHIP], DetainerFilter(), min_cell=3)
    assert rounded.statements[1][1] == {"base": 3, "min_margin": 1}


async def test_a_states_facility_names_and_whether_any_release_is_loaded() -> None:
    fake = _Connection([("ORANGCA", "ORANGE COUNTY JAIL"), (42, "CITY JAIL")])
    assert await facility_names(_as_conn(fake), "CA") == {
        "ORANGCA": "ORANGE COUNTY JAIL",
        "42": "CITY JAIL",
    }
    [(statement, params)] = fake.statements
    assert params == {"state": "CA"}
    assert str(statement) == (
        f"SELECT {facility_key_sql('f')}, f.name FROM detainer_facilities f"
        " WHERE f.state_code = :state"
    )
    loaded = _Connection([(True,)])
    assert await detainers_loaded(_as_conn(loaded)) is True
    assert str(loaded.statements[0][0]) == "SELECT EXISTS (SELECT FROM detainer_totals)"
    assert await detainers_loaded(_as_conn(_Connection([(False,)]))) is False
    assert await detainers_loaded(_as_conn(_Connection([(None,)]))) is False


async def test_a_filters_ids_must_name_rows() -> None:
    nothing = _Connection([])
    await DetainerFilter(facility="ORANGCA").check_ids(_as_conn(nothing))
    assert nothing.statements == []  # a code is no id: nothing to check
    found = _Connection([(True, True, True)])
    given = DetainerFilter(facility=FACILITY_ID, jurisdiction=12, agency=7)
    await given.check_ids(_as_conn(found))
    [(statement, params)] = found.statements
    assert params == {"k0": 42, "k1": 12, "k2": 7}
    assert "detainer_facilities" in str(statement)
    assert "jurisdictions" in str(statement)
    assert "agencies" in str(statement)
    missing = _Connection([(True, False)])
    with pytest.raises(BadId, match=r"^jurisdiction: no Jurisdiction has the id "):
        await DetainerFilter(facility=FACILITY_ID, jurisdiction=12).check_ids(_as_conn(missing))
    facility = _Connection([(False,)])
    with pytest.raises(BadId, match=r"^facility: no Facility has the id "):
        await DetainerFilter(facility=FACILITY_ID).check_ids(_as_conn(facility))
    agency = _Connection([(False,)])
    with pytest.raises(BadId, match=r"^agency: no Agency has the id "):
        await DetainerFilter(agency=7).check_ids(_as_conn(agency))
