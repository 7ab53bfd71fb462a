"""Deterministic test inputs: hand-made ICE spreadsheets and hostile files."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import openpyxl
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import SourceDocument
from tests.support.environment import SHARED_DATA

ICE_DIR = SHARED_DATA / "ice-287g"
PARTICIPATING_HEADER = (
    "STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA",
    "ADDENDUM",
)  # fmt: skip
PENDING_HEADER = PARTICIPATING_HEADER[:5]
POLICY_HEADER = (
    "jurisdiction_level,state,name,fips,status,declared_sanctuary,policy_name,"
    "effective_date,source_title,source_url,notes\n"
)
SAFELINK = (
    "https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2Fdoclib"
    "%2F287gMOA%2F{name}.pdf&data=05%7C02%7Cx&reserved=0"
)


class Link:
    """A cell showing `text` whose hyperlink target is `target` (how ICE stores MOAs)."""

    def __init__(self, text: str, target: str) -> None:
        self.text = text
        self.target = target


def ice_xlsx(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = PARTICIPATING_HEADER,
    *,
    preamble: Sequence[str] = (),
    trailing_blank_rows: int = 0,
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in preamble:
        sheet.append([line])
    sheet.append(list(header))
    for row in rows:
        sheet.append([value.text if isinstance(value, Link) else value for value in row])
        for index, value in enumerate(row, start=1):
            if isinstance(value, Link):
                sheet.cell(row=sheet.max_row, column=index).hyperlink = value.target
    for _ in range(trailing_blank_rows):
        sheet.append([None] * len(header))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_bomb(expanded_bytes: int) -> bytes:
    """A zip that looks like an xlsx and expands to `expanded_bytes` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(expanded_bytes // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


MAKE_DETAINERS = SHARED_DATA.parent / "tools" / "make_detainers.py"


def make_detainers(
    path: Path, *, rows: int, fmt: str, seed: int = 287, dirty: bool = False
) -> Path:
    """A synthetic release written by the shared tool (invented data, tests only)."""
    import subprocess
    import sys

    command = [sys.executable, str(MAKE_DETAINERS), "--rows", str(rows), "--format", fmt,
               "--seed", str(seed), "-o", str(path)]  # fmt: skip
    if dirty:
        command.append("--dirty")
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    return path


HARRIS_SHERIFF = (
    "TEXAS", "Harris County Sheriff's Office", "County", "Harris County",
    "Jail Enforcement Model", dt.datetime(2025, 3, 1), "link pending",
)  # fmt: skip
"""A participating-list row (the agency detainer facilities and officials match to)."""


ICE_FILES = sorted(ICE_DIR.glob("*.xlsx"))
LATEST_PARTICIPATING = (
    ICE_DIR / "20250712T151631_participating_participatingAgencies07112025pm.xlsx"
)
LATEST_PENDING = ICE_DIR / "20250712T151631_pending_pendingAgencies07112025pm.xlsx"
STATE_CODES = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "COLORADO": "CO",
    "FLORIDA": "FL", "GEORGIA": "GA", "IDAHO": "ID", "INDIANA": "IN", "IOWA": "IA",
    "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD",
    "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS",
    "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH",
    "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND",
    "OHIO": "OH", "OKLAHOMA": "OK", "PENNSYLVANIA": "PA", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "UTAHJ": "UT",
    "VIRGINIA": "VA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
}  # fmt: skip
MODELS = {"jail": "JAIL_ENFORCEMENT", "task": "TASK_FORCE", "warrant": "WARRANT_SERVICE_OFFICER"}


def raw_identities(path: Path) -> set[tuple[str, str, str]]:
    """(state, folded agency name, model) of every data row, read independently."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    found = set()
    for state, agency, _type, _county, support, *_ in rows:
        if not state:
            continue
        folded = re.sub(r"[.,'’]", "", str(agency)).replace("&", " and ")
        name = " ".join(folded.split()).upper()
        model = MODELS[str(support).strip().split()[0].lower()]
        found.add((STATE_CODES[" ".join(str(state).split()).upper()], name, model))
    return found


# Two agreements whose MOAs are among the shared PDFs (Jupiter FL, Freeborn MN), as an ICE
# list names them: the documents tests' common ground.
MOA_BASE = "https://www.ice.gov/doclib/287gMOA/"
JUPITER = "JupiterPDFL_TFM_MOA_032425.pdf"  # text layer, digital-signature stamp
FREEBORN = "FreebornCountyMN_WSO_MOA031325.pdf"  # a font without a Unicode map


def two_moa_agreements_xlsx() -> bytes:
    """An ICE list of the two agreements; the list's date for Jupiter differs from its
    MOA's (2025-03-25, read by eye), Freeborn's agrees with its MOA."""
    jupiter, freeborn = Link("link", MOA_BASE + JUPITER), Link("link", MOA_BASE + FREEBORN)
    rows = [
        ("FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach",
         "Task Force Model", dt.datetime(2025, 3, 20), jupiter),
        ("MINNESOTA", "Freeborn County Sheriff's Office", "County", "Freeborn",
         "Warrant Service Officer", dt.datetime(2025, 3, 26), freeborn),
    ]  # fmt: skip
    return ice_xlsx(rows)


def raw_xlsx(
    path: Path,
    rows: Iterable[str],
    *,
    hyperlinks: Sequence[tuple[str, str]] = (),
) -> Path:
    """An xlsx written as XML, for what openpyxl cannot write: formula cells with saved
    values, and sheets of millions of cells (streamed into the zip, seconds to write).
    `rows` are `<row>` elements (see `xml_row`); `hyperlinks` (cell, target) pairs."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicati'
            'on/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conten'
            'tType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="appli'
            'cation/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
            ' PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/officeDocu'
            'ment" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="Sheet1" sheetId="1"'
            ' r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/worksheet"'
            ' Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<worksheet xmlns="{main}" xmlns:r="{rel}"><sheetData>'.encode())
            batch: list[str] = []
            for row in rows:
                batch.append(row)
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write("".join(batch).encode())
            sheet.write(b"</sheetData>")
            if hyperlinks:
                links = "".join(
                    f'<hyperlink ref="{cell}" r:id="rIdL{n}"/>'
                    for n, (cell, _) in enumerate(hyperlinks)
                )
                sheet.write(f"<hyperlinks>{links}</hyperlinks>".encode())
            sheet.write(b"</worksheet>")
        if hyperlinks:
            targets = "".join(
                f'<Relationship Id="rIdL{n}" Type="{rel}/hyperlink" Target="{escape(target)}"'
                ' TargetMode="External"/>'
                for n, (_, target) in enumerate(hyperlinks)
            )
            archive.writestr(
                "xl/worksheets/_rels/sheet1.xml.rels",
                f'<Relationships xmlns="{package}">{targets}</Relationships>',
            )
    return path


def xml_row(number: int, cells: Sequence[Any]) -> str:
    """A `<row>`: text as an inline string, numbers as numbers, None skipped, and
    `Formula(text, saved)` as a formula cell with its saved value (or none)."""
    parts = []
    for index, value in enumerate(cells):
        ref = f"{get_column_letter(index + 1)}{number}"
        if value is None:
            continue
        if isinstance(value, Formula):
            saved = "" if value.saved is None else f"<v>{escape(value.saved)}</v>"
            parts.append(f'<c r="{ref}" t="str"><f>{escape(value.text[1:])}</f>{saved}</c>')
        elif isinstance(value, str):
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        else:
            parts.append(f'<c r="{ref}"><v>{value}</v></c>')
    return f'<row r="{number}">{"".join(parts)}</row>'


class Formula:
    """A formula cell (`text` starts with `=`) and the value saved with it, if any."""

    def __init__(self, text: str, saved: str | None = None) -> None:
        self.text = text
        self.saved = saved


def sheriffs_xlsx(release: Path) -> bytes:
    """A participating list with the sheriff's office of every county whose jail a raw
    detainer release names ("ORANGE COUNTY JAIL" of CALIFORNIA → Orange County Sheriff's
    Office, CA): two agencies share a name where two states have a county of one name."""
    import csv

    counties: set[tuple[str, str]] = set()
    with release.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            name = row["detention_facility"]
            if name.endswith((" COUNTY JAIL", " PARISH JAIL")):
                counties.add((row["facility_state"], name.removesuffix(" JAIL").title()))
    return ice_xlsx(
        [
            (
                state,
                f"{county} Sheriff's Office",
                "County",
                county,
                "Jail Enforcement Model",
                dt.datetime(2025, 3, 1),
                "link pending",
            )
            for state, county in sorted(counties)
        ]
    )


async def load_release_with_sheriffs(engine: AsyncEngine, release: Path) -> None:
    """Load a synthetic detainer `release`, then a participating list of the sheriffs running
    its county jails (`sheriffs_xlsx`, written beside it), so facilities link to agencies."""
    from open287g.config import Settings
    from open287g.loaders.detainers.load import load_detainer_source
    from open287g.loaders.ice287g.load import load_sources, plan_sources

    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)
    ice = write(release.parent, "participatingAgencies07012025am.xlsx", sheriffs_xlsx(release))
    await load_sources(engine, plan_sources([str(ice)]), Settings())


@contextlib.asynccontextmanager
async def app_client(
    engine: AsyncEngine, settings: Settings | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over `engine` as a client; by default with no rate limit and no response
    cache. No lifespan runs under ASGITransport, so the app's cache is closed here."""
    settings = settings or Settings(rate_limit_per_second=0, response_cache=False)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.response_cache.aclose()


async def rest_and_graphql(
    engine: AsyncEngine, path: str, query: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The real app's answers (default settings) to `GET path` and to the GraphQL `query`:
    one question asked through both APIs."""
    async with app_client(engine, Settings()) as client:
        rest = (await client.get(path)).json()
        graphql = (await client.post("/graphql", json={"query": query})).json()
    return rest, graphql


async def add_policy(engine: AsyncEngine, state: str) -> None:
    """Loads a one-row policy CSV for `state`: the smallest load that bumps the data version."""
    row = f"state,{state},x,,LIMITS,false,,,Test,,\n"
    await load_policy_document(
        engine, SourceDocument(f"{state}.csv", (POLICY_HEADER + row).encode()), Settings()
    )
