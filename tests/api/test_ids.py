"""Ids and id filters through the real app (outside review F, G, H): an id is canonical
(one resource, one id: no padding, NUL or leading zero variant is another way to name
it); `facility`, `agency` and `jurisdiction` filters refuse an id of another type, a
malformed id and a well-formed id that names nothing alike (400, a clear message);
`from` after `to` is a 400; each endpoint's `group_by` example is its own; error
messages use the right article."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.db.queries.ids import to_global_id
from tests.support.fixtures import (
    MAKE_DETAINERS,
    app_client,
    load_release_with_sheriffs,
    make_detainers,
)

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")

MISSING = 10**9  # a key no row has


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("ids")
    release = make_detainers(folder / "release.csv", rows=2000, fmt="csv", seed=7)
    await load_release_with_sheriffs(engine, release)
    async with app_client(engine) as client:
        yield client


async def first_id(http: httpx.AsyncClient, collection: str, **params: Any) -> str:
    answer = await http.get(f"/v1/{collection}", params={"limit": 1, **params})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"][0]["id"])


async def refused(http: httpx.AsyncClient, path: str, **params: Any) -> str:
    answer = await http.get(path, params=params)
    assert answer.status_code == 400, (params, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    return str(answer.json()["detail"])


def variants(global_id: str) -> list[str]:
    """Other spellings of the same "Type:key" the base64 decoder would take."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    type_name, _, key = raw.partition(":")
    padded = base64.urlsafe_b64encode(raw.encode()).decode()
    zero = base64.urlsafe_b64encode(f"{type_name}:0{key}".encode()).decode().rstrip("=")
    out = [global_id + "\x00", global_id + "=", global_id + "==", zero, " " + global_id]
    if padded != global_id:
        out.append(padded)
    return out


@pytest.mark.parametrize("collection", ["agencies", "facilities", "jurisdictions", "agreements"])
async def test_an_id_is_canonical(http: httpx.AsyncClient, collection: str) -> None:
    global_id = await first_id(http, collection)
    assert (await http.get(f"/v1/{collection}/{global_id}")).status_code == 200
    for other in variants(global_id):
        answer = await http.get(f"/v1/{collection}/{quote(other, safe='')}")
        assert answer.status_code == 404, (other, answer.text)
    query = "query($id: ID!) { node(id: $id) { id } }"
    for other in variants(global_id):
        body = await http.post("/graphql", json={"query": query, "variables": {"id": other}})
        assert body.json().get("errors") or body.json()["data"]["node"] is None, other


async def test_the_facility_filter_refuses_what_agency_and_jurisdiction_refuse(
    http: httpx.AsyncClient,
) -> None:
    facility = await first_id(http, "facilities")
    agency = await first_id(http, "agencies")
    jurisdiction = await first_id(http, "jurisdictions")
    assert (
        await http.get("/v1/stats/detainers", params={"group_by": "state", "facility": facility})
    ).json()["data"]
    ids = {"facility": facility, "agency": agency, "jurisdiction": jurisdiction}
    types = {"facility": "Facility", "agency": "Agency", "jurisdiction": "Jurisdiction"}
    for name, type_name in types.items():
        other = "agency" if name != "agency" else "facility"
        wrong = await refused(http, "/v1/stats/detainers", group_by="state", **{name: ids[other]})
        assert f"not of {'an' if type_name[0] in 'AEIOU' else 'a'} {type_name}" in wrong
        assert " a Agency" not in wrong
        missing = await refused(
            http,
            "/v1/stats/detainers",
            group_by="state",
            **{name: to_global_id(type_name, MISSING)},
        )
        assert f"no {type_name} has the id" in missing
    for name in ("agency", "jurisdiction"):
        await refused(http, "/v1/stats/detainers", group_by="state", **{name: "QWdlbmN5Ojky\x00"})
        await refused(http, "/v1/facilities", **{name: "nonsense"})
        missing = await refused(
            http, "/v1/facilities", **{name: to_global_id(types[name], MISSING)}
        )
        assert f"no {types[name]} has the id" in missing
        await refused(
            http, "/v1/facilities", format="csv", **{name: to_global_id(types[name], MISSING)}
        )
    # GraphQL takes the same filter: an id of another type is an error there too.
    query = "query($f: DetainerFilter) { detainerStats(groupBy: [STATE], filter: $f) { issued } }"
    body = await http.post(
        "/graphql", json={"query": query, "variables": {"f": {"facility": agency}}}
    )
    assert "not of a Facility" in body.json()["errors"][0]["message"]


async def test_from_after_to_is_refused(http: httpx.AsyncClient) -> None:
    detail = await refused(
        http, "/v1/stats/detainers", group_by="month", **{"from": "2025-03-01", "to": "2025-01-31"}
    )
    assert "from (2025-03-01) is after to (2025-01-31)" in detail
    same = await http.get(
        "/v1/stats/detainers",
        params={"group_by": "month", "from": "2025-01-01", "to": "2025-01-01"},
    )
    assert same.status_code == 200


@pytest.mark.parametrize("endpoint", ["agreements", "detainers"])
async def test_each_group_by_example_is_the_endpoint_s_own(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    detail = await refused(http, f"/v1/stats/{endpoint}", group_by="")
    example = detail.split("e.g. group_by=")[1].split()[0].rstrip(".,;")
    answer = await http.get(f"/v1/stats/{endpoint}", params={"group_by": example})
    assert answer.status_code == 200, (example, answer.text)
