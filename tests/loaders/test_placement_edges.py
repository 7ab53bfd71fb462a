"""Placement rules at their edges (loaders/ice287g/counties.py), without a database: an
exact county is not a defect, a guessed one is reported on the column it came from, a
county that is not one leaves the state, a place named TYPE County is put inside the
county of its name only on an exact match, and a reviewed override beats what the cells
say while keeping their contradiction on record. `make mutate` measures how many of the
module's mutants these kill."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.gazetteer import County, CountyMatch
from open287g.db.models.enums import AgencyType, IssueAction, ProgramModelCode
from open287g.loaders.ice287g.counties import (
    AGENCY_COLUMN,
    COUNTY_COLUMN,
    PLACEMENT,
    Overrides,
    PlacementOverride,
    describe_match,
    override_evidence,
    place_counties,
    placement_overrides,
    placements_of,
)
from open287g.loaders.ice287g.jurisdictions import agency_jurisdiction
from open287g.loaders.ice287g.parse import IceRow, ParsedSheet
from open287g.text import name_key

COUNTY, CITY, STATE = AgencyType.COUNTY, AgencyType.MUNICIPALITY, AgencyType.STATE_AGENCY
Row = tuple[str, str, AgencyType, str | None]


def sheet(*rows: Row) -> ParsedSheet:
    parsed = ParsedSheet()
    for number, (state, agency, kind, county) in enumerate(rows, start=2):
        parsed.rows.append(
            IceRow(
                number, state, agency, name_key(agency), kind, county,
                ProgramModelCode.TASK_FORCE, None, None, None, (),
                agency_jurisdiction(state, agency, kind, county),
            )
        )  # fmt: skip
    return parsed


Placed = tuple[str, str, str | None, str | None, str | None, str | None, str | None]


Issue = tuple[int | None, str | None, str, str | None]


def place(*rows: Row, overrides: Overrides | None = None) -> tuple[list[Placed], list[Issue]]:
    """(kind, name, parent kind, parent name, method, evidence, conflict) of each row, and
    (row, column, reason, value) of each repair reported."""
    parsed = sheet(*rows)
    staged = place_counties(parsed, overrides)
    assert [s.row_number for s in staged] == [r.row_number for r in parsed.rows]
    assert all(issue.action is IssueAction.REPAIRED for issue in parsed.issues)
    return (
        [(s.j_kind, s.j_name, s.p_kind, s.p_name, s.placement_method, s.placement_evidence,
          s.placement_conflict) for s in staged],
        [(i.row_number, i.column, i.reason, i.value) for i in parsed.issues],
    )  # fmt: skip


def test_an_exact_county_is_not_reported() -> None:
    placed, issues = place(("FL", "Lee County Sheriff's Office", COUNTY, "Lee"))
    assert placed == [("COUNTY", "Lee County", "STATE", "Florida", "COUNTY_CELL",
                       "the COUNTY cell says Lee; the name agrees", None)]  # fmt: skip
    assert issues == []


def test_a_guessed_county_is_reported_on_the_column_it_came_from() -> None:
    placed, issues = place(
        ("AL", "Franklin County Sheriff's Office", COUNTY, "Frankin"),
        ("LA", "Lafourch Parish Sheriff's Office", COUNTY, None),
        ("FL", "Melbourne Police Department", CITY, "Brevrd"),
    )
    franklin = "county read as Franklin County, AL (FIPS 01059; closest name, similarity 93.3)"
    lafourche = "county read as Lafourche Parish, LA (FIPS 22057; closest name, similarity 94.1)"
    brevard = "county read as Brevard County, FL (FIPS 12009; closest name, similarity 92.3)"
    assert placed == [
        ("COUNTY", "Franklin County", "STATE", "Alabama", "COUNTY_CELL",
         f"the COUNTY cell says Frankin; the name agrees; {franklin}", None),
        ("COUNTY", "Lafourche Parish", "STATE", "Louisiana", "AGENCY_NAME",
         f"the name names Lafourch Parish (no COUNTY cell); {lafourche}", None),
        ("PLACE", "Melbourne", "COUNTY", "Brevard County", "AGENCY_NAME",
         f"the name names the place Melbourne, in Brevrd (the COUNTY cell); {brevard}", None),
    ]  # fmt: skip
    assert issues == [
        (2, COUNTY_COLUMN, franklin, "Frankin"),
        (3, AGENCY_COLUMN, lafourche, "Lafourch Parish"),
        (4, COUNTY_COLUMN, brevard, "Brevrd"),
    ]


def test_a_county_that_is_none_leaves_the_agency_its_state() -> None:
    placed, issues = place(
        ("FL", "Atlantis Sheriff's Office", COUNTY, "Atlantis"),
        ("FL", "Atlantis Police Department", CITY, "Atlantis"),
    )
    not_one = "'Atlantis' is not a county in the Census county list of FL, so no county is known"
    assert placed == [
        ("STATE", "Florida", None, None, "STATE_ONLY",
         f"the COUNTY cell says Atlantis; {not_one}", None),
        ("PLACE", "Atlantis", "STATE", "Florida", "AGENCY_NAME",
         f"the name names the place Atlantis, in Atlantis (the COUNTY cell); {not_one}", None),
    ]  # fmt: skip
    reason = "county not in the Census county list of FL; the agency keeps its state only"
    assert issues == [
        (2, COUNTY_COLUMN, reason, "Atlantis"),
        (3, COUNTY_COLUMN, reason, "Atlantis"),
    ]


def test_a_place_typed_county_goes_inside_the_county_of_its_exact_name_only() -> None:
    placed, issues = place(
        ("FL", "Okeechobee Police Department", COUNTY, None),
        ("FL", "Melbourne Police Department", COUNTY, None),  # no county of that name
        ("FL", "Okeechobee Police Department", COUNTY, "Okeechobee"),  # a COUNTY cell
        ("FL", "Okeechobee Police Department", CITY, None),  # TYPE says no county
        ("FL", "Okeechobe Police Department", COUNTY, None),  # close is not exact
    )
    conflict = (
        "TYPE says County, but the name is a place's police or constable; placed in the place "
    )
    assert placed == [
        ("PLACE", "Okeechobee", "COUNTY", "Okeechobee County", "AGENCY_NAME",
         "the name names the place Okeechobee; no COUNTY cell: inside Okeechobee County "
         "(12093), whose name the place has", conflict + "Okeechobee"),
        ("PLACE", "Melbourne", "STATE", "Florida", "AGENCY_NAME",
         "the name names the place Melbourne", conflict + "Melbourne"),
        ("PLACE", "Okeechobee", "COUNTY", "Okeechobee County", "AGENCY_NAME",
         "the name names the place Okeechobee, in Okeechobee (the COUNTY cell)",
         conflict + "Okeechobee"),
        ("PLACE", "Okeechobee", "STATE", "Florida", "AGENCY_NAME",
         "the name names the place Okeechobee", None),
        ("PLACE", "Okeechobe", "STATE", "Florida", "AGENCY_NAME",
         "the name names the place Okeechobe", conflict + "Okeechobe"),
    ]  # fmt: skip
    assert issues == [
        (2, "TYPE", PLACEMENT + conflict + "Okeechobee", "Okeechobee Police Department"),
        (2, COUNTY_COLUMN, f"{PLACEMENT}no COUNTY cell; TYPE says County and the place has the "
         "name of Okeechobee County (12093): placed inside it", None),
        (3, "TYPE", PLACEMENT + conflict + "Melbourne", "Melbourne Police Department"),
        (4, "TYPE", PLACEMENT + conflict + "Okeechobee", "Okeechobee Police Department"),
        (6, "TYPE", PLACEMENT + conflict + "Okeechobe", "Okeechobe Police Department"),
    ]  # fmt: skip


def test_a_conflict_between_the_cell_and_the_name_is_reported_on_the_county_column() -> None:
    placed, issues = place(("FL", "Lee County Sheriff's Office", COUNTY, "Collier"))
    conflict = "the COUNTY cell says Collier, the agency's own name Lee County; placed by the name"
    assert placed == [("COUNTY", "Lee County", "STATE", "Florida", "AGENCY_NAME",
                       "the name names Lee County", conflict)]  # fmt: skip
    assert issues == [(2, COUNTY_COLUMN, PLACEMENT + conflict, "Lee County Sheriff's Office")]


def test_rows_without_a_county_are_left_as_they_are() -> None:
    placed, issues = place(("FL", "Florida Highway Patrol", STATE, None))
    assert placed == [("STATE", "Florida", None, None, "TYPE",
                       "TYPE says State Agency: it serves the state", None)]  # fmt: skip
    assert issues == []


def test_one_county_is_matched_once_for_many_rows() -> None:
    rows = [("AL", f"Franklin County Task Force {i}", COUNTY, "Frankin") for i in range(3)]
    placed, issues = place(*rows)
    assert {p[1] for p in placed} == {"Franklin County"}
    assert [i[0] for i in issues] == [2, 3, 4]  # each row still reported


# --- reviewed overrides ------------------------------------------------------------------

BREVARD, ORANGE = "12009", "12095"
CONFLICT = "TYPE says County, but the name is a place's police or constable; placed in the place "


def test_an_override_beats_the_cells_and_keeps_their_contradiction() -> None:
    rows = [("FL", "Okeechobee Police Department", COUNTY, None),
            ("FL", "Okeechobee Police Department", CITY, None)]  # fmt: skip
    overrides = {("FL", name_key(rows[0][1])): PlacementOverride((BREVARD, ORANGE), "Melbourne",
                                                               "serves two counties")}  # fmt: skip
    placed, issues = place(*rows, overrides=overrides)
    evidence = ("reviewed override: placed in Melbourne (Brevard County 12009, Orange County "
                "12095); serves two counties")  # fmt: skip
    conflict = CONFLICT + "Okeechobee"
    assert placed == [
        ("PLACE", "Melbourne", "COUNTY", "Brevard County", "OVERRIDE", evidence, conflict),
        ("PLACE", "Melbourne", "COUNTY", "Brevard County", "OVERRIDE", evidence, None),
    ]
    assert issues == [(2, COUNTY_COLUMN, PLACEMENT + evidence, None),
                      (3, COUNTY_COLUMN, PLACEMENT + evidence, None)]  # fmt: skip


def test_an_override_without_a_place_or_a_note() -> None:
    override = PlacementOverride((ORANGE,), None, None)
    assert (
        override_evidence(override)
        == "reviewed override: placed in Orange County (Orange County 12095)"
    )
    row = ("FL", "Lee County Sheriff's Office", COUNTY, "Lee")
    placed, issues = place(row, overrides={("FL", name_key(row[1])): override})
    assert placed == [("COUNTY", "Orange County", "STATE", "Florida", "OVERRIDE",
                       override_evidence(override), None)]  # fmt: skip
    assert issues == [(2, COUNTY_COLUMN, PLACEMENT + override_evidence(override), "Lee")]
    # Another state's agency of the same name is not overridden.
    placed, _ = place(("GA", row[1], COUNTY, "Lee"), overrides={("FL", name_key(row[1])): override})
    assert placed[0][4] == "COUNTY_CELL"


def test_placements_of_stored_cells_follow_the_same_rules() -> None:
    cells: Sequence[tuple[str, str, str, str | None]] = [
        ("FL", "Lee County Sheriff's Office", "COUNTY", "Lee"),
        ("FL", "Okeechobee Police Department", "COUNTY", None),
        ("FL", "Atlantis Sheriff's Office", "COUNTY", "Atlantis"),
        ("FL", "Melbourne Police Department", "MUNICIPALITY", None),
    ]
    overrides = {
        ("FL", name_key("Melbourne Police Department")): PlacementOverride(
            (BREVARD,), "Melbourne", None
        )
    }
    conflict = CONFLICT + "Okeechobee"
    assert placements_of(cells, overrides) == {
        cells[0]: ("COUNTY_CELL", "the COUNTY cell says Lee; the name agrees", None),
        cells[1]: ("AGENCY_NAME", "the name names the place Okeechobee; no COUNTY cell: inside "
                   "Okeechobee County (12093), whose name the place has", conflict),
        cells[2]: ("STATE_ONLY", "the COUNTY cell says Atlantis; 'Atlantis' is not a county in "
                   "the Census county list of FL, so no county is known", None),
        cells[3]: ("OVERRIDE", "reviewed override: placed in Melbourne (Brevard County 12009)",
                   None),
    }  # fmt: skip
    assert placements_of([], {}) == {}


@pytest.mark.parametrize(
    ("method", "score", "how"),
    [
        ("independent-city", 100.0, "the independent city of that name"),
        ("similarity", 93.25, "closest name, similarity 93.25"),
        ("similarity", 90.0, "closest name, similarity 90"),
        ("transposed-letters", 95.0, "the same letters in another order"),
        ("exact", 100.0, "exact"),
    ],
)
def test_describe_match(method: str, score: float, how: str) -> None:
    match = CountyMatch(County("51760", "VA", "Richmond city"), method, score)  # type: ignore[arg-type]
    assert describe_match(match) == f"county read as Richmond city, VA (FIPS 51760; {how})"


def test_placed_references_keep_their_state_and_parents() -> None:
    from open287g.loaders.ice287g.counties import _placed

    row = ("FL", "Okeechobee Police Department", COUNTY, None)
    override = {("FL", name_key("Lee County Sheriff's Office")): PlacementOverride(
        (BREVARD,), "Melbourne", None)}  # fmt: skip
    inside, moved = _placed(
        sheet(row, ("FL", "Lee County Sheriff's Office", COUNTY, "Lee")), override
    )
    county = inside.jurisdiction.parent
    assert county is not None
    assert (county.kind.value, county.state_code, county.name) == (
        "COUNTY",
        "FL",
        "Okeechobee County",
    )
    assert county.parent is not None
    assert (county.parent.kind.value, county.parent.name) == ("STATE", "Florida")
    place = moved.jurisdiction
    assert (place.kind.value, place.state_code, place.name) == ("PLACE", "FL", "Melbourne")
    assert place.parent is not None
    assert (place.parent.state_code, place.parent.name) == ("FL", "Brevard County")
    county_only = _placed(sheet(("FL", "Lee County Sheriff's Office", COUNTY, "Lee")),
                          {("FL", name_key("Lee County Sheriff's Office")): PlacementOverride(
                              (BREVARD,), None, None)})[0].jurisdiction  # fmt: skip
    assert (county_only.kind.value, county_only.state_code) == ("COUNTY", "FL")


class _Rows:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows

    def all(self) -> list[tuple[object, ...]]:
        return self.rows


class _Connection:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows
        self.statements: list[str] = []

    async def execute(self, statement: object) -> _Rows:
        self.statements.append(str(statement))
        return _Rows(self.rows)


async def test_the_overrides_in_force_are_read_loaded_first() -> None:
    fake = _Connection(
        [("FL", "melbourne pd", [BREVARD, ORANGE], "Melbourne", "two"), ("GA", "x", [], None, None)]
    )
    overrides = await placement_overrides(cast(AsyncConnection, fake))
    assert overrides == {
        ("FL", "melbourne pd"): PlacementOverride((BREVARD, ORANGE), "Melbourne", "two"),
        ("GA", "x"): PlacementOverride((), None, None),
    }
    [statement] = fake.statements
    assert statement.startswith("SELECT DISTINCT ON (state_code, agency_key) state_code,")
    assert statement.endswith("ORDER BY state_code, agency_key, load_run_id IS NULL, id DESC")
