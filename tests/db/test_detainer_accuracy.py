"""Issue #22: every rounded detainer count, at every level, within the published bound of
its truth (and withheld exactly where its margin is below OPEN287G_MIN_MARGIN), the truth
read from the raw synthetic file with the csv module (none of the
service's aggregation or category code), the answers through the real app (REST).

The table of levels (cells, cells within the bound, worst error) goes to
`<artifacts>/detainer-accuracy.json`.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from tests.support.fixtures import (
    MAKE_DETAINERS,
    load_release_with_sheriffs,
    make_detainers,
)

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")

BASE = 5
MIN_MARGIN = Settings().min_margin  # the default OPEN287G_MIN_MARGIN, served below
ROWS = 50_000
# The raw file's values, mapped here by hand (not through open287g.loaders).
OUTCOMES = {
    "": "PENDING",
    "Booked into Detention": "BOOKED_INTO_DETENTION",
    "Detainer Declined by LEA": "DECLINED_BY_AGENCY",
}
CRIMINALITY = {"1": "CONVICTED", "2": "PENDING_CHARGES", "3": "OTHER_IMMIGRATION_VIOLATOR"}
STATES = {
    "ALABAMA": "AL", "ARIZONA": "AZ", "CALIFORNIA": "CA", "COLORADO": "CO", "DELAWARE": "DE",
    "FLORIDA": "FL", "GEORGIA": "GA", "IDAHO": "ID", "ILLINOIS": "IL", "KANSAS": "KS",
    "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD",
    "MASSACHUSETTS": "MA", "MINNESOTA": "MN", "MISSOURI": "MO", "NEBRASKA": "NE",
    "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM",
    "NEW YORK": "NY", "NORTH CAROLINA": "NC", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "SOUTH CAROLINA": "SC", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WISCONSIN": "WI", "WYOMING": "WY",
}  # fmt: skip
MEASURES = ("issued", "declined", "booked_into_detention", "pending")
MEASURE_OF = {
    "DECLINED_BY_AGENCY": "declined",
    "BOOKED_INTO_DETENTION": "booked_into_detention",
    "PENDING": "pending",
}
LEVELS = (
    (),
    ("state",),
    ("month",),
    ("facility",),
    ("agency",),
    ("jurisdiction",),
    ("state", "month"),
    ("agency", "month"),
)
PERSONAL = (("criminality",), ("citizenship",), ("criminality", "citizenship"))

Record = dict[str, str]
Table = dict[tuple[str, ...], dict[str, int]]


def read_raw(path: Path) -> list[Record]:
    """Each data row as the attributes the statistics group by."""
    records = []
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            records.append(
                {
                    "state": STATES[row["facility_state"]],
                    "facility": row["detention_facility_code"],
                    "facility_name": row["detention_facility"],
                    "month": row["detainer_prepare_date"][:8] + "01",
                    "outcome": OUTCOMES.get(row["detainer_lift_reason"], "OTHER_LIFTED"),
                    "criminality": CRIMINALITY[row["detainer_prepared_criminality"][0]],
                    "citizenship": row["citizenship_country"],
                }
            )
    return records


def truth(records: list[Record], group_by: tuple[str, ...]) -> Table:
    table: defaultdict[tuple[str, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(MEASURES, 0)
    )
    for record in records:
        row = table[tuple(record[d] for d in group_by)]
        row["issued"] += 1
        if measure := MEASURE_OF.get(record["outcome"]):
            row[measure] += 1
    return dict(table)


@pytest.fixture(scope="module")
async def served(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, list[Record]]]:
    release = make_detainers(tmp_path_factory.mktemp("acc") / "r.csv", rows=ROWS, fmt="csv")
    await load_release_with_sheriffs(engine, release)
    app = create_app(
        Settings(min_cell=BASE, rate_limit_per_second=0, response_cache=False), engine=engine
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        # Where the service placed each jail and who runs it (#22): the API's facility list.
        facilities = (await http.get("/v1/facilities", params={"limit": 1000})).json()["data"]
        places = {row["code"]: row for row in facilities}
        records = read_raw(release)
        for record in records:
            place = places[record["facility"]]
            record["jurisdiction"] = place["jurisdiction_id"] or "None"
            record["agency"] = place["agency_id"] or "None"
        assert all(row["jurisdiction_id"] for row in facilities), "every jail is placed"
        assert sum(1 for row in facilities if row["agency_id"]) > 50, "most have a sheriff"
        yield http, records


async def test_every_cell_of_every_level_is_within_the_bound(
    served: tuple[httpx.AsyncClient, list[Record]], artifacts_dir: Path
) -> None:
    http, records = served
    report: list[dict[str, Any]] = []
    for level in LEVELS:
        for personal in PERSONAL:
            group_by = (*level, *personal)
            answer = await http.get("/v1/stats/detainers", params={"group_by": ",".join(group_by)})
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-perturbation-bound"] == str(BASE - 1)
            rows = answer.json()["data"]
            assert all(row["rounded"] and row["bound"] == BASE - 1 for row in rows)
            margins = truth(records, level)  # exact: what decides whether one is withheld
            for row in rows:  # a margin withheld whole: one row, personal keys null
                if all(row[d] is None for d in personal):
                    margin = margins[tuple(str(row[d]) for d in level)]
                    assert 0 < margin["issued"] < MIN_MARGIN, row
                    assert row["suppressed"], row
                    assert row["issued"] is None, row
            published = {
                tuple(str(row[d]) for d in group_by): row
                for row in rows
                if not all(row[d] is None for d in personal)
            }
            true = truth(records, group_by)
            assert set(published) <= set(true), "a published cell holds no detainer"
            cells = within = worst = withheld = 0
            for key, counts in true.items():
                for measure in MEASURES:
                    if not counts[measure] and measure != "issued":
                        continue
                    value = published.get(key, {}).get(measure, 0)
                    if 0 < margins[key[: len(level)]][measure] < MIN_MARGIN:
                        assert value is None or key not in published, (key, measure)
                        withheld += 1
                        continue
                    assert value is not None, (key, measure)
                    error = abs(value - counts[measure])
                    cells += 1
                    within += error <= BASE - 1
                    worst = max(worst, error)
            report.append(
                {
                    "level": " × ".join(group_by),
                    "cells": cells,
                    "within": within,
                    "worst": worst,
                    "withheld": withheld,
                }
            )
    exact = await http.get("/v1/stats/detainers", params={"group_by": "state,facility,month"})
    assert exact.headers["x-perturbation-bound"] == "0"
    (artifacts_dir / "detainer-accuracy.json").write_text(json.dumps(report, indent=2))
    assert all(level["within"] == level["cells"] for level in report), report
    assert BASE - 1 < BASE  # the bound is below the base


async def test_facilities_are_told_apart_by_code(
    served: tuple[httpx.AsyncClient, list[Record]], artifacts_dir: Path
) -> None:
    """#22: ORANGE COUNTY JAIL of California and of Florida (and SUFFOLK COUNTY JAIL of
    Massachusetts and New York) are different jails: one row per code, and `facility=` a
    code selects one of them; exact decline rates from the raw file."""
    http, records = served
    codes = {r["facility"] for r in records}
    names = {r["facility_name"] for r in records}
    assert len(names) < len(codes)  # two names are shared by two jails each
    answer = await http.get("/v1/stats/detainers", params={"group_by": "facility"})
    rows = {row["facility"]: row for row in answer.json()["data"]}
    assert set(rows) == codes
    true = truth(records, ("facility",))
    rates = {}
    for code in ("ORANGCA", "ORANGFL", "SUFFOMA", "SUFFONY"):
        assert {m: rows[code][m] for m in MEASURES} == true[(code,)]
        one = await http.get("/v1/stats/detainers", params={"group_by": "state", "facility": code})
        assert [row["issued"] for row in one.json()["data"]] == [true[(code,)]["issued"]]
        decided = true[(code,)]["issued"] - true[(code,)]["pending"]
        assert rows[code]["decline_rate"] == true[(code,)]["declined"] / decided
        rates[code] = round(100 * true[(code,)]["declined"] / decided, 1)
    merged = await http.get(
        "/v1/stats/detainers", params={"group_by": "state", "facility": "ORANGE"}
    )
    assert {row["state"] for row in merged.json()["data"]} == {"CA", "FL"}
    (artifacts_dir / "detainer-facilities.json").write_text(
        json.dumps({"facility codes": len(codes), "rows": len(rows), "decline %": rates})
    )
