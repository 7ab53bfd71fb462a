"""The data-quality report (#12): the MOA file-name rule on its own (ICE's real wrong
links flagged, ICE's typos and abbreviations not; Hypothesis: a file named after the
agency in ICE's styles is never flagged, another state's code always is), and the report
on the 54 real snapshots through REST and GraphQL (the four wrong links and nothing else,
every load issue accounted for, flags pointing at real files)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.moa_file_names import judge, read_file_name
from open287g.db.reference_data import STATES
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
DOCLIB = "https://www.ice.gov/doclib/287gMOA/"
WRONG_LINKS = {
    ("ND", "Mercer County Sheriff's Office", "WinklerCoSheriffsOfficeTX_JEM_MOA_03.21.2025.pdf"),
    ("FL", "Edgewood Police Department", "EdgewaterPoliceDeptFL_TFM_MOA_07022025.pdf"),
    ("FL", "Sebastian Police Department", "SatelliteBeachPoliceDeptFL_TFM_MOA_06052025.pdf"),
    ("FL", "Florida Fish and Wildlife Conservation Commission",
     "FloridaDeptEnvironProtectDivLawEnf_TFM_MOA_04252025.pdf"),
}  # fmt: skip
# Real links whose file names are misspelled, abbreviated or glued differently: not flagged.
RIGHT_LINKS = [
    ("AZ", "Yavapai County Sheriff's Office", "287gJEM_YvapaiCoAZ2020-06-09.pdf"),
    ("FL", "Belleair Police Department", "BellairePoliceDept_TFM_MOA_02.28.25%20508.pdf"),
    ("FL", "DeSoto County Sheriff's Office", "DeSotoCoSheriffsOffice_TFM_MOA_02.26.2025.pdf"),
    ("ND", "McKenzie County Sheriff's Office", "McKenzieCoND_TFM_MOA_03.06.2025.pdf"),
    ("FL", "Lake County Sheriff's Office", "lakeCountySherrifsOffice_TF_MOA_03122025.pdf"),
    ("FL", "Florida Division of Alcoholic Beverages and Tobacco",
     "FloridaDBPR_ABT_ABLE_TFM_MOA_04242025.pdf"),
    ("NH", "New Hampshire State Police", "NHSPD_TFM_MOA_042525.pdf"),
    ("VA", "Virginia Department of Corrections", "VADOC_JEM_MOA_022825.pdf"),
    ("CO", "Teller County Sheriff's Office", "287gJEM_TellerCoCo2020-06-08.pdf"),
    ("FL", "Arcadia Police Department", "ArcadiaPDFL_TFM_MOA_030425.pdf"),
    ("KY", "Marshall County Sheriff's Office", "MarshallCoSheriffsOfficeKY_TFM_MOA_05082025.pdf"),
    ("FL", "Ft. Myers Police Department", "FortMyersPoliceDeptFL_TFM_MOA_05162025.pdf"),
    ("FL", "Zephyrhills Police Department", "ZephyrHillsPoliceDeptFL_TFM_MOA_04142025.pdf"),
    ("FL", "Florida Department of Environmental Protection",
     "FloridaDeptEnvironProtectDivLawEnf_TFM_MOA_04252025.pdf"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "agency", "file"), sorted(WRONG_LINKS))
def test_wrong_links_are_flagged(state: str, agency: str, file: str) -> None:
    assert judge(DOCLIB + file, agency, state).flagged


@pytest.mark.parametrize(("state", "agency", "file"), RIGHT_LINKS)
def test_typos_and_abbreviations_are_not_flagged(state: str, agency: str, file: str) -> None:
    verdict = judge(DOCLIB + file, agency, state)
    assert not verdict.flagged, verdict


def test_file_state_and_words() -> None:
    read = read_file_name(DOCLIB + "WinklerCoSheriffsOfficeTX_JEM_MOA_03.21.2025.pdf")
    assert (read.state, read.core) == ("TX", ("winkler",))
    assert read_file_name(DOCLIB + "287gWSO_BakerCoFl2019-10-15.pdf").state == "FL"
    assert read_file_name(DOCLIB + "287gJEM_TellerCoCo2020-06-08.pdf").state == "CO"
    assert read_file_name(DOCLIB + "brevardCo_TFM_MOA_03.04.2025.pdf").state is None
    assert judge(DOCLIB + "WinklerCoSheriffsOfficeTX_JEM_MOA.pdf", "Winkler County SO", "ND") \
        .names_other_state  # fmt: skip


PLACE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10).map(str.title)
KINDS = [
    ("County Sheriff's Office", ["CoSheriffsOffice", "CountySheriffsOffice", "Co", "SO"]),
    ("Police Department", ["PoliceDept", "PD", "PoliceDepartment"]),
]


@settings(max_examples=200, derandomize=True, database=None)
@given(
    words=st.lists(PLACE, min_size=1, max_size=3),
    kind=st.sampled_from(KINDS),
    style=st.integers(0, 2),
    state=st.sampled_from([s.usps for s in STATES]),
    other=st.sampled_from([s.usps for s in STATES]),
    model=st.sampled_from(["JEM", "TFM", "WSO"]),
    date=st.sampled_from(["03.21.2025", "04142025", "2020-06-09", "02.28.25 508"]),
)
def test_own_name_never_flagged_other_state_always(
    words: list[str], kind: tuple[str, list[str]], style: int, state: str, other: str,
    model: str, date: str,
) -> None:  # fmt: skip
    agency = f"{' '.join(words)} {kind[0]}"
    place = "".join(words)
    suffix = kind[1][style % len(kind[1])]
    names = {
        0: f"{place}{suffix}{state}_{model}_MOA_{date}.pdf",
        1: f"287g{model}_{place}{suffix}{state.title()}{date}.pdf",
        2: f"{place[0].lower()}{place[1:]}{suffix}_{model}_MOA_{date}.pdf",
    }
    url = DOCLIB + names[style].replace(" ", "%20")
    assert not judge(url, agency, state).flagged, (url, agency, state)
    moved = DOCLIB + f"{place}{suffix}{other}_{model}_MOA_{date}.pdf"
    assert judge(moved, agency, state).names_other_state == (other != state)


# On the real snapshots --------------------------------------------------------------


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Settings(), engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def report(client: httpx.AsyncClient, **params: str) -> Any:
    response = await client.get("/v1/quality", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@needs_data
async def test_the_four_wrong_links_and_nothing_else(client: httpx.AsyncClient) -> None:
    data = await report(client)
    counts = {c["kind"]: c["count"] for c in data["counts"]}
    print(f"quality flags by kind: {counts}; load-issue groups: {len(data['load_issues'])}")
    moa = [f for f in data["flags"] if f["kind"] == "MOA_OF_ANOTHER_AGENCY"]
    assert {(f["state"], f["agency_name"], f["value"].rsplit("/", 1)[-1]) for f in moa} == (
        WRONG_LINKS
    )
    assert counts["MOA_OF_ANOTHER_AGENCY"] == 4
    mercer = next(f for f in moa if f["state"] == "ND")
    assert "another state (TX)" in mercer["detail"]
    # Each flag points at a list that shows it.
    datasets = {d["id"]: d for d in (await client.get("/v1/datasets")).json()["data"]}
    for flag in moa:
        shown = datasets[flag["dataset_id"]]
        assert shown["snapshot_kind"] == "PARTICIPATING"
        assert flag["first_seen"] <= shown["snapshot_date"] <= flag["last_seen"]
    only = await report(client, kind="MOA_OF_ANOTHER_AGENCY")
    assert only["flags"] == moa
    assert [c["kind"] for c in only["counts"]] == ["MOA_OF_ANOTHER_AGENCY"]
    assert (await client.get("/v1/quality", params={"kind": "NOPE"})).status_code == 400


@needs_data
async def test_every_issue_and_link_is_reported(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    data = await report(client)
    async with engine.connect() as conn:
        issue_rows = (await conn.execute(text("SELECT sum(rows) FROM load_issues"))).scalar_one()
        links = (await conn.execute(text("SELECT count(*) FROM agreement_links"))).scalar_one()
        without_moa = (
            await conn.execute(
                text("SELECT count(*) FROM agreements WHERE status = 'ACTIVE' AND moa_url IS NULL")
            )
        ).scalar_one()
    assert sum(g["rows"] for g in data["load_issues"]) == issue_rows
    assert all(0 < len(g["examples"]) <= 3 for g in data["load_issues"])
    counts = {c["kind"]: c["count"] for c in data["counts"]}
    assert counts["RENAME_LINK"] == links == 18  # 16 renames, a relisting, a switch
    wrong_state = [f for f in data["flags"] if f["kind"] == "POSSIBLE_WRONG_STATE"]
    assert [(f["agency_name"], f["state"]) for f in wrong_state] == [
        ("Ellis County Sheriff's Office", "KS")
    ]
    assert counts["ACTIVE_WITHOUT_MOA"] == without_moa
    dates = [f for f in data["flags"] if f["kind"] == "DATE_OUTSIDE_PROGRAM"]
    assert [(f["agency_name"], f["value"]) for f in dates] == [
        ("Grundy County Sheriff's Office", "5025-07-07")
    ]
    duplicates = [f for f in data["flags"] if f["kind"] == "CONFLICTING_DUPLICATE"]
    assert len(duplicates) == 5
    assert {f["agency_name"] for f in duplicates} == {"St. Cloud Police Department"}
    renames = {(f["agency_name"], f["method"]) for f in data["flags"] if f["kind"] == "RENAME_LINK"}
    assert ("Indialantic Police Department", "name-similarity") in renames


@needs_data
async def test_graphql_data_quality_matches_rest(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    rest = await report(client)
    query = """{ dataQuality {
      flagCounts { kind count }
      flags { kind agencyName detail value datasetId dataset { sha256 }
              agreement { id agency { name } } otherAgreement { id } }
      loadIssues { dataset action reason rows files examples { fileName dataset { name } } } } }"""
    data, errors = await execute(engine, query)
    assert not errors, errors
    quality = data["dataQuality"]
    assert {c["kind"]: c["count"] for c in quality["flagCounts"]} == {
        c["kind"]: c["count"] for c in rest["counts"]
    }
    assert [(f["kind"], f["agreement"]["id"], f["detail"], f["value"], f["datasetId"])
            for f in quality["flags"]] == [
        (f["kind"], f["agreement_id"], f["detail"], f["value"], f["dataset_id"])
        for f in rest["flags"]
    ]  # fmt: skip
    renames = [f for f in quality["flags"] if f["kind"] == "RENAME_LINK"]
    assert all(f["otherAgreement"] is not None for f in renames)
    assert [(g["reason"], g["rows"]) for g in quality["loadIssues"]] == [
        (g["reason"], g["rows"]) for g in rest["load_issues"]
    ]
    for group in quality["loadIssues"]:
        assert all(e["dataset"]["name"] == e["fileName"] for e in group["examples"])
    narrowed, errors = await execute(
        engine, "{ dataQuality { flags(kinds: [DATE_OUTSIDE_PROGRAM]) { agencyName } } }"
    )
    assert not errors
    assert narrowed["dataQuality"]["flags"] == [{"agencyName": "Grundy County Sheriff's Office"}]
