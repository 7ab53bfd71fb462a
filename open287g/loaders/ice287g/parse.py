"""Parse one ICE 287(g) spreadsheet into clean rows and a report of every defect.

Written for the format, not for particular files: the header row is found by its names
(with known variants), columns may come in any order, optional columns may be absent,
and each defect becomes a repair or a rejected row with the row number and column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from open287g.config import get_settings
from open287g.db.ingest.ice287g import StagedRow
from open287g.db.ingest.provenance import IssueRecord
from open287g.db.models.enums import AgencyType, IssueAction, ProgramModelCode, SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.jurisdictions import JurisdictionRef, agency_jurisdiction
from open287g.loaders.normalize import (
    clean_text,
    is_ice_gov,
    is_missing,
    lookup_state,
    parse_date,
    unwrap_link,
)
from open287g.loaders.xlsx_stream import Row, SheetCell, SheetLimits, open_sheets
from open287g.text import name_key

HEADER_SEARCH_ROWS = 15
EARLIEST_SIGNED = dt.date(1996, 9, 30)
"""IIRIRA, which created 287(g), became law on this day: no agreement was signed before."""

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "state": ("STATE",),
    "agency": ("LAW ENFORCEMENT AGENCY", "AGENCY", "AGENCY NAME", "LEA"),
    "type": ("TYPE", "AGENCY TYPE"),
    "county": ("COUNTY", "COUNTY/PARISH"),
    "support_type": ("SUPPORT TYPE", "MODEL", "287(G) MODEL", "PROGRAM MODEL"),
    "signed": ("SIGNED", "DATE SIGNED", "SIGNED DATE", "MOA SIGNED"),
    "moa": ("MOA", "MOA LINK"),
    "addendum": ("ADDENDUM", "ADDENDUMS", "ADDENDA"),
}
REQUIRED_COLUMNS = ("state", "agency", "support_type")
LINK_COLUMNS = ("moa", "addendum")
Cells = tuple[SheetCell | None, ...]
# `=HYPERLINK("address"` (Excel doubles a quote inside a text literal) …
_HYPERLINK_LITERAL = re.compile(r'^=\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*[,)]', re.IGNORECASE)
# … and any other HYPERLINK formula, whose address is computed.
_HYPERLINK_CALL = re.compile(r"^=\s*HYPERLINK\(", re.IGNORECASE)

_MODELS: dict[str, ProgramModelCode] = {
    "JAIL ENFORCEMENT": ProgramModelCode.JAIL_ENFORCEMENT,
    "JAIL ENFORCEMENT MODEL": ProgramModelCode.JAIL_ENFORCEMENT,
    "JEM": ProgramModelCode.JAIL_ENFORCEMENT,
    "TASK FORCE": ProgramModelCode.TASK_FORCE,
    "TASK FORCE MODEL": ProgramModelCode.TASK_FORCE,
    "TFM": ProgramModelCode.TASK_FORCE,
    "TRIBAL TASK FORCE": ProgramModelCode.TRIBAL_TASK_FORCE,
    "TRIBAL TASK FORCE MODEL": ProgramModelCode.TRIBAL_TASK_FORCE,
    "WARRANT SERVICE OFFICER": ProgramModelCode.WARRANT_SERVICE_OFFICER,
    "WARRANT SERVICE OFFICER MODEL": ProgramModelCode.WARRANT_SERVICE_OFFICER,
    "WARRANT SERVICE OFFICERS": ProgramModelCode.WARRANT_SERVICE_OFFICER,
    "WSO": ProgramModelCode.WARRANT_SERVICE_OFFICER,
}
_AGENCY_TYPES: dict[str, AgencyType] = {
    "COUNTY": AgencyType.COUNTY,
    "MUNICIPALITY": AgencyType.MUNICIPALITY,
    "MUNICIPAL": AgencyType.MUNICIPALITY,
    "CITY": AgencyType.MUNICIPALITY,
    "STATE AGENCY": AgencyType.STATE_AGENCY,
    "STATE": AgencyType.STATE_AGENCY,
    "TRIBAL": AgencyType.TRIBAL,
    "TRIBE": AgencyType.TRIBAL,
}


@dataclass(frozen=True)
class IceRow:
    row_number: int
    state_code: str
    agency_name: str
    agency_key: str
    agency_type: AgencyType
    county: str | None
    model: ProgramModelCode
    signed_on: dt.date | None
    signed_raw: str | None
    moa_url: str | None
    addendum_urls: tuple[str, ...]
    jurisdiction: JurisdictionRef

    @property
    def identity(self) -> tuple[str, str, ProgramModelCode]:
        return (self.state_code, self.agency_key, self.model)

    def staged(self) -> StagedRow:
        j, parent = self.jurisdiction, self.jurisdiction.parent
        return StagedRow(
            self.row_number, self.state_code, self.agency_name, self.agency_key,
            self.agency_type.value, self.county, self.model.value, self.signed_on,
            self.signed_raw, self.moa_url, list(self.addendum_urls), j.kind.value, j.name,
            j.key, parent.kind.value if parent else None, parent.name if parent else None,
            parent.key if parent else None, j.method.value, j.evidence or None, j.conflict,
        )  # fmt: skip

    def content(self) -> tuple[Any, ...]:
        """Everything but the row number: equal content means an exact duplicate."""
        return (*self.identity, self.agency_type, self.county, self.signed_on, self.signed_raw,
                self.moa_url, self.addendum_urls)  # fmt: skip


@dataclass
class ParsedSheet:
    rows: list[IceRow] = field(default_factory=list)
    issues: list[IssueRecord] = field(default_factory=list)
    rows_read: int = 0

    def repaired(self, row: int, column: str | None, reason: str, value: object = None) -> None:
        self.issues.append(IssueRecord(row, column, IssueAction.REPAIRED, reason, _text(value)))

    def rejected(self, row: int, column: str | None, reason: str, value: object = None) -> None:
        self.issues.append(IssueRecord(row, column, IssueAction.REJECTED, reason, _text(value)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def plausible_signed_dates(published_on: dt.date) -> tuple[dt.date, dt.date]:
    """Signing dates a list published on `published_on` can truthfully carry: from IIRIRA
    to a year after publication (room for a list dated ahead). Outside it is a typo, like
    ICE's 5025-07-07 in a cell formatted `mm-dd-yy`, where Excel shows 07-07-25."""
    try:
        latest = published_on.replace(year=published_on.year + 1)
    except ValueError:  # 29 February
        latest = published_on.replace(year=published_on.year + 1, day=28)
    return EARLIEST_SIGNED, latest


def parse_workbook(
    label: str,
    data: bytes,
    kind: SnapshotKind,
    *,
    published_on: dt.date,
    max_unzipped_bytes: int,
    limits: SheetLimits | None = None,
) -> ParsedSheet:
    """The rows of the first sheet with a header, read as a stream within `limits`
    (default: the settings' OPEN287G_MAX_SHEET_ROWS and OPEN287G_MAX_SHEET_CELLS)."""
    limits = limits or SheetLimits.from_settings(get_settings())
    signed_range = plausible_signed_dates(published_on)
    with open_sheets(label, data, max_unzipped_bytes=max_unzipped_bytes, limits=limits) as sheets:
        for sheet in sheets:
            with closing(sheet.rows()) as rows:
                columns = _find_header(rows)
                if columns is not None:
                    return _parse_sheet(label, rows, columns, kind, signed_range)
    raise LoadError(
        label,
        "no header row found: expected columns "
        + ", ".join(COLUMN_ALIASES[c][0] for c in REQUIRED_COLUMNS)
        + f" in the first {HEADER_SEARCH_ROWS} rows of a sheet",
    )


def _find_header(rows: Iterator[Row]) -> dict[str, int] | None:
    """Column name → index of the first row (of the first HEADER_SEARCH_ROWS) naming STATE
    and the agency; `rows` then continues after it."""
    for number, row in rows:
        if number > HEADER_SEARCH_ROWS:
            return None
        names = [((clean_text(cell.value) if cell else None) or "").upper() for cell in row]
        columns: dict[str, int] = {}
        for field_name, aliases in COLUMN_ALIASES.items():
            for index, name in enumerate(names):
                if name in aliases:
                    columns[field_name] = index
                    break
        if "state" in columns and "agency" in columns:
            return columns
    return None


def _parse_sheet(
    label: str,
    rows: Iterator[Row],
    columns: dict[str, int],
    kind: SnapshotKind,
    signed_range: tuple[dt.date, dt.date],
) -> ParsedSheet:
    missing = [COLUMN_ALIASES[c][0] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise LoadError(label, f"missing required column(s): {', '.join(missing)}")
    parsed = ParsedSheet()
    seen: dict[tuple[str, str, ProgramModelCode], IceRow] = {}
    for number, cells in rows:
        if all(_blank(cell) for cell in cells):
            continue  # blank rows (ICE's files end with several)
        parsed.rows_read += 1
        row = _parse_row(parsed, number, cells, columns, kind, signed_range)
        if row is None:
            continue
        earlier = seen.get(row.identity)
        if earlier is None:
            seen[row.identity] = row
            parsed.rows.append(row)
        elif earlier.content() == row.content():
            parsed.repaired(
                row.row_number, None, f"exact duplicate of row {earlier.row_number}; dropped"
            )
        else:
            parsed.rejected(
                row.row_number,
                None,
                f"same agency and model as row {earlier.row_number} with different details; "
                "the first row is kept",
            )
    return parsed


def _blank(cell: SheetCell | None) -> bool:
    return cell is None or (cell.formula is None and clean_text(cell.value) is None)


def _cell(cells: Cells, columns: dict[str, int], name: str) -> SheetCell | None:
    index = columns.get(name)
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _value(cells: Cells, columns: dict[str, int], name: str) -> Any:
    cell = _cell(cells, columns, name)
    return None if cell is None else cell.value


def _formulas_read(parsed: ParsedSheet, number: int, cells: Cells, columns: dict[str, int]) -> bool:
    """Formula cells are read as the value the file saved with them, never as their text
    (`=CONCATENATE("Zavala"," County Sheriff's Office")` is not an agency's name); each is
    reported. False when a required column's formula has no saved value: the row is
    rejected. Link columns read HYPERLINK formulas themselves (`_link`)."""
    for name, index in columns.items():
        cell = cells[index] if index < len(cells) else None
        if cell is None or name in LINK_COLUMNS:
            continue
        column = COLUMN_ALIASES[name][0]
        if cell.formula is None:
            if isinstance(cell.value, str) and cell.value.lstrip().startswith("="):
                reason = "a formula written as text; its text is not data"
                if name in REQUIRED_COLUMNS:
                    parsed.rejected(number, column, reason, cell.value)
                    return False
            continue
        if cell.value is not None:
            reason = "formula; read as the value saved with it"
            parsed.repaired(number, column, reason, cell.formula)
        elif name in REQUIRED_COLUMNS:
            reason = "formula with no value saved in the file; its text is not data"
            parsed.rejected(number, column, reason, cell.formula)
            return False
        else:
            parsed.repaired(
                number, column, "formula with no value saved in the file; read as blank",
                cell.formula,
            )  # fmt: skip
    return True


def _parse_row(
    parsed: ParsedSheet,
    number: int,
    cells: Cells,
    columns: dict[str, int],
    kind: SnapshotKind,
    signed_range: tuple[dt.date, dt.date],
) -> IceRow | None:
    if not _formulas_read(parsed, number, cells, columns):
        return None
    raw_state = clean_text(_value(cells, columns, "state"))
    state, guessed = lookup_state(raw_state)
    if state is None:
        parsed.rejected(number, "STATE", "unknown or missing state", raw_state)
        return None
    if guessed:
        parsed.repaired(number, "STATE", f"misspelled state read as {state.name}", raw_state)

    agency = clean_text(_value(cells, columns, "agency"))
    if agency is None or is_missing(agency):
        parsed.rejected(number, "LAW ENFORCEMENT AGENCY", "missing agency name", agency)
        return None

    raw_model = clean_text(_value(cells, columns, "support_type"))
    model = _MODELS.get(name_key(raw_model)) if raw_model else None
    if model is None:
        parsed.rejected(number, "SUPPORT TYPE", "unknown or missing program model", raw_model)
        return None

    county = clean_text(_value(cells, columns, "county"))
    if is_missing(county):
        county = None
    agency_type = _agency_type(parsed, number, clean_text(_value(cells, columns, "type")), agency)

    signed_on, signed_raw = _signed(parsed, number, _value(cells, columns, "signed"), signed_range)

    moa_url = _link(parsed, number, "MOA", _cell(cells, columns, "moa"))
    addendum = _link(parsed, number, "ADDENDUM", _cell(cells, columns, "addendum"))
    if kind is SnapshotKind.PENDING and (moa_url or signed_on):
        parsed.repaired(number, None, "pending list row carries MOA/SIGNED values; ignored")
        moa_url, addendum, signed_on, signed_raw = None, None, None, None

    return IceRow(
        row_number=number,
        state_code=state.usps,
        agency_name=agency,
        agency_key=name_key(agency),
        agency_type=agency_type,
        county=county,
        model=model,
        signed_on=signed_on,
        signed_raw=signed_raw,
        moa_url=moa_url,
        addendum_urls=(addendum,) if addendum else (),
        jurisdiction=agency_jurisdiction(state.usps, agency, agency_type, county),
    )


def _signed(
    parsed: ParsedSheet, number: int, value: object, signed_range: tuple[dt.date, dt.date]
) -> tuple[dt.date | None, str | None]:
    """(date served, raw text kept). An unreadable or implausible date is not served."""
    signed_on, signed_raw = parse_date(value)
    if signed_on is None and signed_raw is not None:
        parsed.repaired(
            number, "SIGNED", "date cannot be read unambiguously; kept as text", signed_raw
        )
    earliest, latest = signed_range
    if signed_on is not None and not earliest <= signed_on <= latest:
        signed_raw = signed_raw or signed_on.isoformat()
        parsed.repaired(
            number,
            "SIGNED",
            f"implausible date {signed_on.isoformat()} (outside {earliest.isoformat()} … "
            f"{latest.isoformat()}, a year after the list); kept as text, not served as a date",
            signed_raw,
        )
        signed_on = None
    return signed_on, signed_raw


def _agency_type(parsed: ParsedSheet, number: int, raw: str | None, agency: str) -> AgencyType:
    if raw is not None and not is_missing(raw):
        known = _AGENCY_TYPES.get(name_key(raw))
        if known is not None:
            return known
        parsed.repaired(number, "TYPE", "unknown agency type; recorded as UNKNOWN", raw)
        return AgencyType.UNKNOWN
    key = name_key(agency)
    if "SHERIFF" in key or "COUNTY" in key or "PARISH" in key:
        inferred = AgencyType.COUNTY
    elif "POLICE" in key and "STATE" not in key:
        inferred = AgencyType.MUNICIPALITY
    else:
        inferred = AgencyType.UNKNOWN
    parsed.repaired(number, "TYPE", f"blank agency type; inferred {inferred} from the name", raw)
    return inferred


def _link(parsed: ParsedSheet, number: int, column: str, cell: SheetCell | None) -> str | None:
    """The document URL of a MOA/ADDENDUM cell: its hyperlink, the address a HYPERLINK
    formula names (in the cell's formula, or typed as text), or a URL typed as text."""
    if cell is None:
        return None
    text = clean_text(cell.value)
    target = cell.hyperlink
    formula = cell.formula or (text if text and _HYPERLINK_CALL.match(text) else None)
    if target is None and formula is not None and _HYPERLINK_CALL.match(formula):
        literal = _HYPERLINK_LITERAL.match(formula)
        if literal is None:
            reason = "HYPERLINK formula whose address is computed, not written out; dropped"
            parsed.repaired(number, column, reason, formula)
            return None
        target = literal.group(1).replace('""', '"')
        parsed.repaired(number, column, "address read from a HYPERLINK formula", formula)
    elif target is None and formula is not None:
        parsed.repaired(number, column, "formula where a link belongs; dropped", formula)
        return None
    if target is None and text and text.lower().startswith("http"):
        target = text
    if target is None:
        return None  # "link pending" or blank: no document yet
    url = unwrap_link(target)
    if url is None:
        parsed.repaired(number, column, "link is not a web address; dropped", target)
        return None
    if not is_ice_gov(url):
        parsed.repaired(number, column, "link does not point to ice.gov; dropped", url)
        return None
    if url != clean_text(target):
        parsed.repaired(number, column, "safelinks wrapper removed", target)
    return url
