"""The HTML pages through the real app (httpx ASGITransport) on real ICE snapshots, the
policy CSV, a synthetic detainer release and a hostile file: every number a page shows
equals what the APIs answer, sorting works without script, untrusted names are escaped,
pages are cached and validated by data version, and the /docs guide's examples run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from markupsafe import escape
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries import agreements, timeline
from open287g.db.queries.ids import to_global_id
from open287g.db.reference_data import STATES
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from open287g.pages import geo, guide
from tests.support.database import create_database_copy, drop_database
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_DIR, ICE_FILES, Link, ice_xlsx, make_detainers, write

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
FILES = ICE_FILES[:10]
HOSTILE = "<script>alert(1)</script>"
MAX_PAGE_BYTES = 150 * 1024


class Parsed(HTMLParser):
    """What the tests look at in a page: every start tag with its attributes, the text
    inside each element that has an id, and the text of <title> children of links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self.link_titles: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self._in_link_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag in ("use", "path", "circle", "line", "rect", "link", "meta", "polyline", "br"):
            return  # void in practice (self-closed in our SVG)
        self._open.append((tag, values.get("id")))
        if values.get("id"):
            self.text_by_id[values["id"]] = ""
        self._in_link_title = tag == "title" and len(self._open) > 1 and self._open[-2][0] == "a"

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break
        self._in_link_title = False

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.text_by_id[element_id] += data
        if self._in_link_title:
            self.link_titles.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def hrefs(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a]


@pytest.fixture(scope="module")
async def client(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("pages")
    # A list older than the real ones naming a hostile agency (ICE's files are untrusted).
    hostile = write(
        folder,
        "participatingAgencies05012025am.xlsx",
        ice_xlsx([
            ("TEXAS", HOSTILE, "County", "Harris County", "Jail Enforcement Model",
             dt.datetime(2025, 3, 1), Link("MOA", "javascript:alert(2)")),
            # ICE's real mistake: Mercer County, ND linked to Winkler County, TX's MOA.
            ("NORTH DAKOTA", "Mercer County Sheriff's Office", "County", "Mercer County",
             "Jail Enforcement Model", dt.datetime(2025, 3, 21),
             Link("MOA", "https://www.ice.gov/doclib/287gMOA/"
                  "WinklerCoSheriffsOfficeTX_JEM_MOA_03.21.2025.pdf")),
        ]),
    )  # fmt: skip
    await load_sources(engine, plan_sources([str(hostile), *map(str, FILES)]), Settings())
    policies = read_path(str(SHARED_DATA / "policies" / "brief-named-states.csv"), 10**6)
    await load_policy_document(engine, policies, Settings())
    release = make_detainers(folder / "release.csv", rows=3000, fmt="csv")
    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)
    transport = httpx.ASGITransport(
        app=create_app(Settings(rate_limit_per_second=0), engine=engine)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _html(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, Parsed]:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response, Parsed(response.text)


async def _active_by_state(client: httpx.AsyncClient) -> dict[str, int]:
    body = (await client.get("/v1/stats/agreements?group_by=state&status=ACTIVE")).json()
    return {row["state"]: row["count"] for row in body["data"]}


async def test_home_numbers_map_and_chart_equal_the_api(client: httpx.AsyncClient) -> None:
    response, page = await _html(client, "/")
    statuses = {
        row["status"]: row["count"]
        for row in (await client.get("/v1/stats/agreements?group_by=status")).json()["data"]
    }
    for status in ("ACTIVE", "PENDING", "ENDED"):
        assert int(page.text_by_id[f"n-{status.lower()}"].replace(",", "")) == statuses[status]
    assert statuses["ENDED"] >= 1  # the hostile agreement ended: a real termination

    shapes = [a for a in page.all("use") if "data-state" in a]
    assert sorted(a["data-state"] for a in shapes) == sorted(s.usps for s in STATES)
    active = await _active_by_state(client)
    names = {s.usps: s.name for s in STATES}
    for shape in shapes:
        count = active.get(shape["data-state"], 0)
        assert int(shape["data-active"]) == count
        title = f"{names[shape['data-state']]}: {count} active agreement"
        assert any(t.startswith(title) for t in page.link_titles), title
    assert page.text_by_id["n-restricts"].strip() == "6"  # the six states of the policy CSV
    assert len(page.all("use", **{"class": "mark-restricts"})) == 6

    last = page.all("circle", id="last-point")
    assert [int(c["data-count"]) for c in last] == [statuses["ACTIVE"]]
    assert response.headers["x-data-version"]
    assert "synthetic" in response.text.lower()  # the notice, while synthetic data is loaded


async def test_chart_counts_equal_the_lists_as_of_each_date(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        series = await timeline.counts_per_list_date(conn)
        days = sorted({c.day for c in series})
        assert len(days) >= 5
        for day in days:
            for status in ("ACTIVE", "PENDING"):
                expected = await agreements.agreement_count(
                    conn, agreements.AgreementFilter(status=status), as_of=day
                )
                got = sum(c.count for c in series if c.day == day and c.status == status)
                assert got == expected, (day, status)


async def test_state_page_lists_every_agreement_sorted_without_script(
    client: httpx.AsyncClient,
) -> None:
    rest = (await client.get("/v1/agreements?state=TX&limit=1000")).json()["data"]
    _, page = await _html(client, "/states/TX")
    table = page.text_by_id["agreement-table"]
    agency_links = [h for h in page.hrefs() if h.startswith("/agencies/")]
    assert len(agency_links) == len(rest)
    assert {row["agency_id"] for row in rest} == {
        h.removeprefix("/agencies/") for h in agency_links
    }
    assert "/v1/agreements?state=TX&format=csv" in page.hrefs()
    assert HOSTILE in table  # parsed text: the name shows as text...

    ascending = [h for h in (await _html(client, "/states/TX?sort=agency"))[1].hrefs()
                 if h.startswith("/agencies/")]  # fmt: skip
    descending = [h for h in (await _html(client, "/states/TX?sort=-agency"))[1].hrefs()
                  if h.startswith("/agencies/")]  # fmt: skip
    assert ascending == agency_links  # agency is the default sort
    assert ascending[::-1] != ascending
    assert sorted(ascending) == sorted(descending)
    names = {row["agency_id"]: row["agency_name"].casefold() for row in rest}
    shown = [names[h.removeprefix("/agencies/")] for h in descending]
    assert shown == sorted(shown, reverse=True)
    _, by_signed = await _html(client, "/states/TX?sort=-signed")
    heading = by_signed.all("th", **{"aria-sort": "descending"})
    assert len(heading) == 1

    redirect = await client.get("/states/tx?sort=model", follow_redirects=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/states/TX?sort=model"
    for bad, status in (("/states/XX", 404), ("/states/TX?sort=bogus", 400),
                        ("/states/TX?sort=agency&sort=model", 400), ("/?x=1", 400)):  # fmt: skip
        answer = await client.get(bad)
        assert answer.status_code == status, bad
        assert answer.headers["content-type"].startswith("text/html")


async def test_state_page_policy_counties_and_detainers(client: httpx.AsyncClient) -> None:
    response, _page = await _html(client, "/states/CA")
    assert "Restricts" in response.text or "restricts" in response.text
    assert "287(g): Helping States Help Themselves" in response.text
    _, texas = await _html(client, "/states/TX")
    counties = (await client.get("/v1/jurisdictions?state=TX&kind=COUNTY&limit=1000")).json()
    for county in counties["data"]:
        assert f"{county['name']} ({county['fips']})" in texas.text_by_id["counties"]
    # Detainers: the published (disclosure-controlled) query, exact without personal fields.
    months = (await client.get("/v1/stats/detainers?group_by=month&state=TX")).json()["data"]
    assert months, "the synthetic release has Texas detainers"
    detainers = texas.text_by_id["detainers"]
    # A month the release starts or ends inside is marked "(partial: through …)".
    flat = re.sub(r"\(partial:[^)]*\)", "", detainers).replace(" ", "").replace("\n", "")
    for row in months:
        assert f"{row['month'][:7]}{row['issued']:,}{row['declined']:,}" in flat


async def test_county_page_shows_the_detainers_of_its_jails(client: httpx.AsyncClient) -> None:
    """#22: Harris County, TX (no 287(g) agency of its own needed) shows its jail's
    detainers, the exact counts the API gives for its id; Orange County, CA shows
    California's Orange County jail only, not Florida's."""
    cases = (("TX", "48201", "HARRITX", None), ("CA", "06059", "ORANGCA", "ORANGFL"))
    for state, fips, code, other in cases:
        rows = await client.get(f"/v1/jurisdictions?state={state}&kind=COUNTY&limit=1000")
        [place] = [j for j in rows.json()["data"] if j["fips"] == fips]
        stats = await client.get(
            "/v1/stats/detainers", params={"group_by": "facility", "jurisdiction": place["id"]}
        )
        [row] = stats.json()["data"]
        assert row["facility"] == code
        page = await client.get(f"/jurisdictions/{place['id']}")
        assert page.status_code == 200
        assert "ICE detainers at its jails" in page.text
        assert f"({code})" in page.text
        assert f"{row['issued']:,}" in page.text
        if other:
            assert f"({other})" not in page.text


async def test_agency_page_shows_the_detainers_of_the_jails_it_runs(
    client: httpx.AsyncClient,
) -> None:
    """#22: the sheriff's office a jail is linked to shows that jail's detainers (the
    counts /v1/facilities gives), beside its agreements; an agency running no jail of the
    loaded release says so."""
    facilities = (await client.get("/v1/facilities", params={"limit": 1000})).json()["data"]
    linked = [f for f in facilities if f["agency_id"]]
    assert linked, "some synthetic jails are run by a sheriff the real lists name"
    for facility in linked[:3]:
        response, page = await _html(client, f"/agencies/{facility['agency_id']}")
        section = page.text_by_id["detainers"]
        assert f"({facility['code']})" in section
        assert f"{facility['issued']:,}" in section
        assert "exact counts" in section
        assert f"agency={facility['agency_id']}" in response.text
    agencies = (await client.get("/v1/agencies", params={"state": "AK"})).json()["data"]
    _, page = await _html(client, f"/agencies/{agencies[0]['id']}")
    assert "No jail in the loaded detainer releases is linked" in page.text_by_id["detainers"]


async def test_agency_page_shows_sources_and_the_calls_that_return_each_value(
    client: httpx.AsyncClient,
) -> None:
    rest = (await client.get("/v1/agreements?state=TX&status=ACTIVE&limit=1")).json()["data"][0]
    response, page = await _html(client, f"/agencies/{rest['agency_id']}")
    assert page.text_by_id.get(f"agreement-{_key(rest['id'])}") is not None
    datasets = {d["sha256"]: d for d in (await client.get("/v1/datasets")).json()["data"]}
    shown = re.findall(r'title="([0-9a-f]{64})"', response.text)
    assert shown
    assert all(sha in datasets for sha in shown)
    links = page.hrefs()
    assert f"/v1/agreements/{rest['id']}" in links
    assert f"/v1/agencies/{rest['agency_id']}" in links
    graphql = [h for h in links if h.startswith("/graphql?query=")]
    assert graphql
    for href in graphql:  # every GraphQL call the page names runs without errors
        query = dict(parse_qsl(urlsplit(href).query))["query"]
        answer = (await client.post("/graphql", json={"query": query})).json()
        assert "errors" not in answer, (query, answer)
    for href in {h for h in links if h.startswith("/v1/")}:
        assert (await client.get(href)).status_code == 200, href
    assert (
        rest["first_seen"] in response.text
        or dt.date.fromisoformat(rest["first_seen"]).strftime("%-d %b %Y") in response.text
    )

    # Agency and jurisdiction pages share one entity-page helper: the same answers.
    for path, kind in (("agencies", "Agency"), ("jurisdictions", "Jurisdiction")):
        for bad in ("nope", to_global_id("Agreement", 1), to_global_id(kind, 10**12)):
            answer = await client.get(f"/{path}/{bad}")
            assert answer.status_code == 404, bad
            assert f"No such {kind.lower()}" in answer.text
            assert f"There is no {kind.lower()} with the id" in answer.text
        stray = await client.get(f"/{path}/{to_global_id(kind, 1)}?bogus=1")
        assert stray.status_code == 400


def _key(global_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().split(":")[1]


async def test_hostile_names_are_text_everywhere(client: httpx.AsyncClient) -> None:
    agencies = (await client.get("/v1/agencies?q=script")).json()["data"]
    [hostile] = [a for a in agencies if a["name"] == HOSTILE]
    pages = ["/", "/states/TX", "/states/TX?sort=-status", f"/agencies/{hostile['id']}"]
    for path in pages:
        response, page = await _html(client, path)
        assert "<script" not in response.text.lower(), path  # no script element, ever
        assert "javascript:" not in response.text.lower(), path
    response, page = await _html(client, f"/agencies/{hostile['id']}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert HOSTILE in "".join(page.text_by_id.values())
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_pages_are_cached_by_data_version_and_validated(client: httpx.AsyncClient) -> None:
    agency = (await client.get("/v1/agencies?state=TX&limit=1")).json()["data"][0]["id"]
    for path in ("/", "/states/FL", f"/agencies/{agency}"):
        first = await client.get(path)
        assert first.status_code == 200
        assert first.headers["x-data-version"]
        assert first.headers["etag"]
        assert len(first.content) < MAX_PAGE_BYTES, (path, len(first.content))
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            again = await client.get(path)
            timings.append(time.perf_counter() - started)
            assert again.headers.get("x-cache") == "HIT", path
            assert again.content == first.content
        unchanged = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert unchanged.status_code == 304
        print(f"{path}: {len(first.content):,} bytes, cached median "
              f"{sorted(timings)[len(timings) // 2] * 1000:.2f} ms")  # fmt: skip


async def test_docs_guide_examples_run_and_reference_moved(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    for example in guide.EXAMPLES:
        assert example.curl("http://127.0.0.1:8000").split("\n")[0] in docs.text.replace(
            "&#39;", "'"
        ).replace("&amp;", "&").replace("&#34;", '"').replace("&quot;", '"')
        if example.graphql is None:
            answer = await client.get(example.path)
            assert answer.status_code == 200, example.path
        elif example.method == "POST":
            answer = await client.post(example.path, json={"query": example.graphql})
            assert answer.status_code == 200
            assert "errors" not in answer.json()
        else:
            answer = await client.get(example.path, params={"query": example.graphql})
            assert answer.status_code == 200
            assert "errors" not in answer.json()
    links = Parsed(docs.text).hrefs()
    for path in ("/openapi.json", "/data.json", "/datapackage.json", "/v1/changes.atom",
                 "/docs/api", "/graphql", "/v1/datasets"):  # fmt: skip
        assert path in links, path
    for name in guide.EXPORTS:
        assert {f"/v1/{name}?format=csv", f"/v1/{name}?format=ndjson"} <= set(links), name
    reference = await client.get("/docs/api")
    assert "/v1/agreements" in reference.text


def test_vendored_atlas_matches_its_manifest_and_draws_every_state() -> None:
    manifest = json.loads((geo.ATLAS / "MANIFEST.json").read_text())
    for name, entry in manifest["files"].items():
        data = (geo.ATLAS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert len(data) == entry["bytes"], name
    paths = geo.state_paths()
    assert set(paths) == {s.fips for s in STATES}
    assert all(re.fullmatch(r"(M[-.0-9 ]+l[-.0-9 ]+z)+", d) for d in paths.values())
    assert 20_000 < sum(len(d) for d in paths.values()) < 60_000


def test_simplify_keeps_the_ends_and_drops_what_is_within_tolerance() -> None:
    line = [(0.0, 0.0), (1.0, 0.1), (2.0, -0.1), (3.0, 5.0), (4.0, 0.0)]
    assert geo.simplify(line, 0.5) == [(0.0, 0.0), (2.0, -0.1), (3.0, 5.0), (4.0, 0.0)]
    assert geo.simplify(line[:2], 0.5) == line[:2]


async def test_page_assets_are_served_by_content(client: httpx.AsyncClient) -> None:
    _, page = await _html(client, "/")
    [sheet] = [a["href"] for a in page.all("link", rel="stylesheet")]
    css = await client.get(sheet)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert sheet.endswith(hashlib.sha256(css.content).hexdigest()[:16])
    again = await client.get(sheet, headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    for missing in ("/static/pages/..%2Fconfig.py", "/static/pages/nothing.css"):
        assert (await client.get(missing)).status_code == 404


def test_serve_prints_where_to_go(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from open287g import cli
    from open287g.config import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:5432/unused")
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    # `serve` writes the public URL into the environment for its workers: recorded here
    # (empty, as if unset) so that it is taken back after the test, not left to every test
    # after it (a later module's links said port 8123).
    monkeypatch.setenv("OPEN287G_PUBLIC_URL", "")
    get_settings.cache_clear()
    try:
        assert cli.main(["serve", "--port", "8123"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    for path in ("/ ", "/docs ", "/graphql "):
        assert f"http://127.0.0.1:8123{path}" in out, out


async def test_pages_on_an_empty_database(server_url: URL, template_url: URL) -> None:
    """A fresh install (schema only, nothing loaded): every page still answers."""
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        app = create_app(Settings(rate_limit_per_second=0, response_cache=False), engine=engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            response, page = await _html(http, "/")
            assert page.text_by_id["n-active"].strip() == "0"
            assert "none loaded yet" in response.text
            assert len([a for a in page.all("use") if "data-state" in a]) == 51
            _, state = await _html(http, "/states/TX")
            assert "No 287(g) agreement has been listed" in state.text_by_id["agreements"]
            assert (await http.get(f"/agencies/{to_global_id('Agency', 1)}")).status_code == 404
            counties = await http.get("/v1/jurisdictions", params={"kind": "COUNTY", "limit": 1})
            county = counties.json()["data"][0]["id"]
            _, page = await _html(http, f"/jurisdictions/{county}")
            assert "No ICE detainer release is loaded" in page.text_by_id["no-detainers"]
            assert (await http.get("/docs")).status_code == 200
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


async def test_pages_link_the_quality_report_and_agency_pages_show_flags(
    client: httpx.AsyncClient,
) -> None:
    """Every page links /v1/quality; an agreement's flags (an MOA link naming another
    agency here) show on its agency's page with the report's own words, and an agency
    without flags shows none."""
    for path in ("/", "/states/TX", "/docs"):
        _, page = await _html(client, path)
        assert "/v1/quality" in page.hrefs(), path
    report = (await client.get("/v1/quality")).json()["data"]
    flagged = [f for f in report["flags"] if f["kind"] == "MOA_OF_ANOTHER_AGENCY"]
    assert flagged, "the lists loaded here give some agreement another agency's MOA"
    for flag in flagged:
        agreement = (await client.get(f"/v1/agreements/{flag['agreement_id']}")).json()["data"]
        response, page = await _html(client, f"/agencies/{agreement['agency_id']}")
        assert "/v1/quality?kind=MOA_OF_ANOTHER_AGENCY" in page.hrefs()
        assert str(escape(flag["detail"])) in response.text
    every = {f["agreement_id"] for f in report["flags"] if f["kind"] != "RENAME_LINK"}
    rows = (await client.get("/v1/agreements?state=TX&limit=1000")).json()["data"]
    flagged_agencies = {r["agency_id"] for r in rows if r["id"] in every}
    clean = next(r for r in rows if r["agency_id"] not in flagged_agencies)
    response, page = await _html(client, f"/agencies/{clean['agency_id']}")
    assert "Data-quality flags" not in response.text
    assert not [h for h in page.hrefs() if h.startswith("/v1/quality?kind=")]


async def test_first_dates_at_the_archive_start_say_so(client: httpx.AsyncClient) -> None:
    """A first sighting on the archive's first list of its kind may be far older than the
    archive: the page says "first seen in this archive", with the start the data gives
    (here the oldest list is the 1 May one this module adds), never "first listed"."""
    phrase = "First seen in this archive (which starts 1 May 2025)"
    [mercer] = (await client.get("/v1/agencies?q=Mercer County&state=ND")).json()["data"]
    response, _ = await _html(client, f"/agencies/{mercer['id']}")
    assert phrase in response.text
    assert "first listed" not in response.text
    rows = (await client.get("/v1/agreements?state=TX&status=ACTIVE&limit=1000")).json()["data"]
    later = next(r for r in rows if r["first_seen"] > "2025-05-16")
    response, _ = await _html(client, f"/agencies/{later['agency_id']}")
    assert dt.date.fromisoformat(later["first_seen"]).strftime("%-d %b %Y") in response.text
    state, _ = await _html(client, "/states/ND")
    assert phrase in state.text
