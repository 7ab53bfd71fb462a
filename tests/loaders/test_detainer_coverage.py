"""The period a detainer release covers, and its partial months (outside review B): the
pages said "N detainers issued to M facilities in Texas" with no release named and no
period, and a release whose rows stop on 14 October showed October as a whole month (a
drop that is not real). A release dated 3 Sep – 14 Oct 2025, through the real app:
/v1/datasets and GraphQL carry coverage_start/end, /data.json its DCAT temporal, and the
state, county and agency pages name the file, its sha256, the period and both partial
months; the agency page says the period is not the agreement's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.fixtures import app_client, load_release_with_sheriffs, write

HEADER = (
    "detainer_prepare_date,facility_state,detention_facility,detention_facility_code,"
    "facility_city,detainer_lift_reason,unique_id\n"
)
DAYS = ["2025-09-03", "2025-09-20", "2025-09-30", "2025-10-01", "2025-10-09", "2025-10-14"]


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("coverage")
    lines = [
        f"{day},TEXAS,HARRIS COUNTY JAIL,HARRITX,HOUSTON,Detainer Declined by LEA,{n}\n"
        for n, day in enumerate(DAYS * 3)
    ]
    release = write(folder, "release-2025-10.csv", (HEADER + "".join(lines)).encode())
    await load_release_with_sheriffs(engine, release)
    async with app_client(engine) as client:
        yield client


async def release_row(http: httpx.AsyncClient) -> dict[str, Any]:
    rows = (await http.get("/v1/datasets")).json()["data"]
    [row] = [r for r in rows if r["dataset"] == "detainers"]
    return dict(row)


async def test_the_apis_state_the_period(http: httpx.AsyncClient) -> None:
    row = await release_row(http)
    assert (row["coverage_start"], row["coverage_end"]) == ("2025-09-03", "2025-10-14")
    query = "{ datasets { dataset coverageStart coverageEnd } }"
    data = (await http.post("/graphql", json={"query": query})).json()["data"]
    [found] = [d for d in data["datasets"] if d["dataset"] == "detainers"]
    assert (found["coverageStart"], found["coverageEnd"]) == ("2025-09-03", "2025-10-14")
    catalog = (await http.get("/data.json")).json()
    temporal = {d["identifier"].split("#")[1]: d.get("temporal") for d in catalog["dataset"]}
    assert temporal["detainers"] == "2025-09-03/2025-10-14"


def source_line(page: str) -> str:
    start = page.index('class="small detainer-source"')
    return page[start : page.index("</p>", start)]


async def test_the_pages_name_the_release_its_period_and_partial_months(
    http: httpx.AsyncClient,
) -> None:
    row = await release_row(http)
    state = (await http.get("/states/TX")).text
    section = state[state.index('id="detainers"') :]
    harris = (await http.get("/v1/jurisdictions", params={"q": "Harris", "state": "TX"})).json()
    [county] = [j for j in harris["data"] if j["kind"] == "COUNTY" and j["name"] == "Harris County"]
    county_page = (await http.get(f"/jurisdictions/{county['id']}")).text
    agencies = (await http.get("/v1/agencies", params={"q": "Harris", "state": "TX"})).json()
    agency_page = (await http.get(f"/agencies/{agencies['data'][0]['id']}")).text
    for page in (section, county_page, agency_page):
        line = source_line(page)
        assert "release-2025-10.csv" in line
        assert f"/v1/datasets/{row['id']}" in line
        assert row["sha256"][:8] in line
        assert "3 Sep 2025 – 14 Oct 2025" in line
        assert "Oct 2025 is a partial month (rows through 14 Oct 2025)" in line
        assert "Sep 2025 is a partial month (rows from 3 Sep 2025)" in line
    months = section[: section.index("</table>")]
    assert "2025-10 <span" in months
    assert "(partial: through 14 Oct 2025)" in months
    assert 'id="detainer-period"' in agency_page
    assert "not the agreement's dates" in agency_page
