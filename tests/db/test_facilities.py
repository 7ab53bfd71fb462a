"""Issue #22: facilities as entities. A generated detainer release and a list of the
sheriffs of its counties, loaded into real PostgreSQL and read through the real app:
the facilities are the release's facility codes (read from the raw file with the csv
module); ORANGCA/ORANGFL and SUFFOMA/SUFFONY are separate jails with their own county,
sheriff and decline rate; GraphQL and REST agree; statistics group and filter by agency
and jurisdiction ids; a page of facilities is one SQL statement."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from tests.support.database import StatementCounter
from tests.support.fixtures import (
    MAKE_DETAINERS,
    load_release_with_sheriffs,
    make_detainers,
)

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")

ROWS = 12_000
TWINS = (("ORANGCA", "ORANGFL"), ("SUFFOMA", "SUFFONY"))
FACILITY_FIELDS = (
    "id code name city state countyFips placementMethod placementScore agencyMethod "
    "agencyScore issued declined pending declineRate jurisdiction { id name fips } "
    "agency { id name state }"
)


class Raw:
    """The release read with the csv module: facility code → (state, name, issued,
    declined, pending), none of the service's code."""

    def __init__(self, path: Path) -> None:
        self.facilities: dict[str, tuple[str, str]] = {}
        self.counts: dict[str, Counter[str]] = {}
        with path.open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                code = row["detention_facility_code"]
                self.facilities[code] = (row["facility_state"], row["detention_facility"])
                counts = self.counts.setdefault(code, Counter())
                counts["issued"] += 1
                lift = row["detainer_lift_reason"]
                counts["pending"] += not lift
                counts["declined"] += lift == "Detainer Declined by LEA"

    def decline_rate(self, codes: set[str]) -> float:
        total: Counter[str] = Counter()
        for code in codes:
            total.update(self.counts[code])
        return total["declined"] / (total["issued"] - total["pending"])


@pytest.fixture(scope="module")
async def served(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, Raw]]:
    folder = tmp_path_factory.mktemp("facilities")
    release = make_detainers(folder / "release.csv", rows=ROWS, fmt="csv", seed=22)
    await load_release_with_sheriffs(engine, release)
    settings = Settings(min_cell=5, rate_limit_per_second=0, response_cache=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, Raw(release)


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    answer = await http.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def every_facility(http: httpx.AsyncClient, filter: dict[str, Any]) -> list[Any]:
    nodes: list[Any] = []
    after = None
    while True:
        data = await graphql(
            http,
            "query($f: FacilityFilter, $a: String) { facilities(first: 25, after: $a,"
            f" filter: $f) {{ totalCount pageInfo {{ hasNextPage endCursor }}"
            f" edges {{ node {{ {FACILITY_FIELDS} }} }} }} }}",
            f=filter,
            a=after,
        )
        page = data["facilities"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(nodes)
            return nodes
        after = page["pageInfo"]["endCursor"]


def rest_form(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL facility as its REST row writes it."""
    agency, place = node["agency"] or {}, node["jurisdiction"] or {}
    return {
        "id": node["id"],
        "code": node["code"],
        "name": node["name"],
        "city": node["city"],
        "state": node["state"],
        "county_fips": node["countyFips"],
        "jurisdiction_id": place.get("id"),
        "placement_method": node["placementMethod"],
        "placement_score": node["placementScore"],
        "agency_id": agency.get("id"),
        "agency_method": node["agencyMethod"],
        "agency_score": node["agencyScore"],
        "issued": node["issued"],
        "declined": node["declined"],
        "pending": node["pending"],
        "decline_rate": node["declineRate"],
    }


async def test_the_facilities_are_the_release_s_codes_in_both_apis(
    served: tuple[httpx.AsyncClient, Raw], artifacts_dir: Path
) -> None:
    http, raw = served
    nodes = await every_facility(http, {})
    assert sorted(n["code"] for n in nodes) == sorted(raw.facilities)
    for node in nodes:
        counts = raw.counts[node["code"]]
        assert (node["issued"], node["declined"], node["pending"]) == (
            counts["issued"],
            counts["declined"],
            counts["pending"],
        )
        assert node["declineRate"] == raw.decline_rate({node["code"]})
    # REST: the same rows, as JSON pages, NDJSON and CSV.
    page = await http.get("/v1/facilities", params={"limit": 1000})
    assert page.status_code == 200, page.text
    assert page.json()["data"] == [rest_form(n) for n in nodes]
    ndjson = await http.get("/v1/facilities", params={"format": "ndjson"})
    assert [json.loads(line) for line in ndjson.text.splitlines()] == page.json()["data"]
    exported = await http.get("/v1/facilities", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["code"] for r in rows] == [n["code"] for n in nodes]
    assert [int(r["issued"]) for r in rows] == [n["issued"] for n in nodes]
    # Each by its id, in both APIs.
    for node in nodes[:5]:
        item = await http.get(f"/v1/facilities/{node['id']}")
        assert item.json()["data"] == rest_form(node)
        found = await graphql(
            http,
            f"query($id: ID!) {{ node(id: $id) {{ ... on Facility {{ {FACILITY_FIELDS} }} }} }}",
            id=node["id"],
        )
        assert found["node"] == node
    rates = {n["code"]: round(100 * n["declineRate"], 1) for n in nodes}
    by_agency: dict[str, set[str]] = {}
    for node in nodes:
        if node["agency"]:
            label = f"{node['agency']['name']} ({node['agency']['state']})"
            by_agency.setdefault(label, set()).add(node["code"])
    (artifacts_dir / "facilities.json").write_text(
        json.dumps(
            {
                "facility codes in the file": len(raw.facilities),
                "facilities served": len(nodes),
                "linked to an agency": sum(1 for n in nodes if n["agency"]),
                "decline % by facility": rates,
                "decline % by agency": {
                    a: round(100 * raw.decline_rate(codes), 1)
                    for a, codes in sorted(by_agency.items())
                },
            },
            indent=2,
        )
    )


async def test_jails_of_one_name_in_two_states_are_two_facilities(
    served: tuple[httpx.AsyncClient, Raw],
) -> None:
    """ORANGE COUNTY JAIL (CA, FL) and SUFFOLK COUNTY JAIL (MA, NY): two facilities each,
    in their own county, run by their own sheriff (two agencies of one name), with their
    own decline rate, in the facility list and in statistics by facility and by agency."""
    http, raw = served
    for pair in TWINS:
        found = []
        for code in pair:
            [node] = await every_facility(http, {"code": code.lower()})
            found.append(node)
        first, second = found
        assert first["name"] == second["name"]
        assert first["id"] != second["id"]
        assert first["state"] != second["state"]
        assert first["jurisdiction"]["fips"][:2] != second["jurisdiction"]["fips"][:2]
        assert first["agency"]["name"] == second["agency"]["name"]
        assert first["agency"]["id"] != second["agency"]["id"]
        assert first["declineRate"] != second["declineRate"]
        for node in found:
            assert node["agencyMethod"] == "county-sheriff"
            assert node["placementMethod"].startswith("facility-name")
            stats = await http.get(
                "/v1/stats/detainers",
                params={"group_by": "agency", "agency": node["agency"]["id"]},
            )
            [row] = stats.json()["data"]
            assert row["agency"] == node["agency"]["id"]
            assert row["decline_rate"] == raw.decline_rate({node["code"]})
            by_id = await http.get(
                "/v1/stats/detainers", params={"group_by": "facility", "facility": node["id"]}
            )
            assert [r["facility"] for r in by_id.json()["data"]] == [node["code"]]


async def test_statistics_by_jurisdiction_and_agency_agree_with_the_facilities(
    served: tuple[httpx.AsyncClient, Raw],
) -> None:
    """Grouped by JURISDICTION (a county's id) or AGENCY (an agency's id), each row is the
    sum of its facilities; a state's id as the filter counts every jail of the state; the
    relations Jurisdiction.facilities and Agency.facilities list the same jails."""
    http, raw = served
    nodes = await every_facility(http, {})
    for dimension, part in (("jurisdiction", "jurisdiction"), ("agency", "agency")):
        answer = await http.get("/v1/stats/detainers", params={"group_by": dimension})
        assert answer.headers["x-perturbation-bound"] == "0"
        rows = {row[dimension]: row["issued"] for row in answer.json()["data"]}
        expected: Counter[str | None] = Counter()
        for node in nodes:
            expected[(node[part] or {}).get("id")] += node["issued"]
        assert rows == dict(expected)
        graph = await graphql(
            http,
            f"{{ detainerStats(groupBy: [{dimension.upper()}])"
            f" {{ key {{ {dimension} }} issued }} }}",
        )
        assert {r["key"][dimension]: r["issued"] for r in graph["detainerStats"]} == rows
    texas = await graphql(
        http,
        '{ jurisdictions(first: 1, filter: {state: "TX", kind: STATE}) { edges { node { id'
        " facilities(first: 100) { totalCount edges { node { code } } }"
        " detainerStats(groupBy: []) { issued } } } } }",
    )
    [state] = [edge["node"] for edge in texas["jurisdictions"]["edges"]]
    codes = {code for code, (state_name, _) in raw.facilities.items() if state_name == "TEXAS"}
    assert {e["node"]["code"] for e in state["facilities"]["edges"]} == codes
    assert state["facilities"]["totalCount"] == len(codes)
    issued = sum(raw.counts[code]["issued"] for code in codes)
    assert state["detainerStats"] == [{"issued": issued}]
    by_state_id = await http.get(
        "/v1/stats/detainers", params={"group_by": "state", "jurisdiction": state["id"]}
    )
    by_state_code = await http.get(
        "/v1/stats/detainers", params={"group_by": "state", "state": "TX"}
    )
    assert by_state_id.json()["data"] == by_state_code.json()["data"]
    [orange] = await every_facility(http, {"code": "ORANGCA"})
    agency = await graphql(
        http,
        "query($id: ID!) { node(id: $id) { ... on Agency { facilities { edges { node { code } } }"
        " detainerStats(groupBy: [FACILITY]) { key { facility } issued } } } }",
        id=orange["agency"]["id"],
    )
    assert agency["node"]["facilities"]["edges"] == [{"node": {"code": "ORANGCA"}}]
    assert agency["node"]["detainerStats"] == [
        {"key": {"facility": "ORANGCA"}, "issued": raw.counts["ORANGCA"]["issued"]}
    ]
    listed = await http.get("/v1/facilities", params={"agency": orange["agency"]["id"]})
    assert [row["code"] for row in listed.json()["data"]] == ["ORANGCA"]
    county = await http.get("/v1/facilities", params={"jurisdiction": orange["jurisdiction"]["id"]})
    assert [row["code"] for row in county.json()["data"]] == ["ORANGCA"]


async def test_an_id_of_another_type_is_a_client_error(
    served: tuple[httpx.AsyncClient, Raw],
) -> None:
    http, _ = served
    [orange] = await every_facility(http, {"code": "ORANGCA"})
    for params in (
        {"group_by": "state", "agency": orange["id"]},
        {"group_by": "state", "jurisdiction": orange["agency"]["id"]},
    ):
        answer = await http.get("/v1/stats/detainers", params=params)
        assert answer.status_code == 400, answer.text
    answer = await http.get("/v1/facilities", params={"agency": "nonsense"})
    assert answer.status_code == 400


async def test_a_page_of_facilities_is_one_statement(
    served: tuple[httpx.AsyncClient, Raw], count_statements: StatementCounter
) -> None:
    http, _ = served
    count_statements.statements.clear()
    page = await http.get("/v1/facilities", params={"limit": 100})
    assert page.status_code == 200
    assert count_statements.count == 1, count_statements.statements
    count_statements.statements.clear()
    await graphql(
        http, f"{{ facilities(first: 100) {{ edges {{ node {{ {FACILITY_FIELDS} }} }} }} }}"
    )
    assert count_statements.count == 1, count_statements.statements
