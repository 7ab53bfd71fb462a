"""Load the jurisdiction policy CSV of SPEC "Policy CSV": one source's assertions about what
a state, county, place or tribe does about cooperation with ICE (README "Policies").

Beyond SPEC's columns, two optional ones: `basis` (`law`, `designation`, `report`) and
`source_date` (YYYY-MM-DD, when the source said it). When absent they are read from the row:
the basis is DESIGNATION when the policy name or notes speak of a designation, LAW when the
row gives the date the rule took effect, else REPORT; the source date is the first ISO date
in the source title, else in the file name, else unknown. `declared_sanctuary` may be empty
(the source says nothing about a self-declaration)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.gazetteer import county_by_fips, county_of_place, match_county, spans_counties
from open287g.db.ingest.policies import PolicyRow, merge_policies, remove_policies
from open287g.db.ingest.provenance import LoadCounts
from open287g.db.models.enums import JurisdictionKind, PolicyBasis, PolicyStatus
from open287g.loaders.csv_documents import CsvSource, ParsedCsv, csv_records
from open287g.loaders.ice287g.jurisdictions import jurisdiction_key
from open287g.loaders.sources import SourceDocument
from open287g.text import name_key

DATASET = "policies"
REQUIRED = ("jurisdiction_level", "state", "name", "status", "declared_sanctuary")
_LEVEL_ALIASES = {"CITY": "PLACE", "TOWN": "PLACE", "TRIBE": "TRIBAL"}
"""SPEC's CSV says `city`; a city, town or other place is a `PLACE` jurisdiction."""
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def source_key(title: str | None) -> str:
    """One source's identity: its title folded (the same SQL folds it in migration 0019)."""
    return _NOT_ALNUM.sub(" ", title or "").strip().upper()


def _first_date(text: str | None) -> dt.date | None:
    for found in _ISO_DATE.findall(text or ""):
        try:
            return dt.date.fromisoformat(found)
        except ValueError:
            continue
    return None


def parse_policy_csv(label: str, data: bytes) -> ParsedCsv[PolicyRow]:
    parsed: ParsedCsv[PolicyRow] = ParsedCsv()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        row = _parse_row(parsed, number, values, label)
        if row is not None:
            parsed.rows.append(row)
    return parsed


def _basis(
    parsed: ParsedCsv[PolicyRow], number: int, values: dict[str, str | None], effective: object
) -> PolicyBasis | None:
    raw = (values.get("basis") or "").upper()
    if raw:
        if raw not in PolicyBasis.__members__:
            parsed.reject(number, "basis", "must be law, designation or report", raw)
            return None
        return PolicyBasis[raw]
    words = f"{values.get('policy_name') or ''} {values.get('notes') or ''}".lower()
    if "designat" in words:
        return PolicyBasis.DESIGNATION
    return PolicyBasis.LAW if effective is not None else PolicyBasis.REPORT


def _parse_row(
    parsed: ParsedCsv[PolicyRow], number: int, values: dict[str, str | None], label: str
) -> PolicyRow | None:
    level = (values.get("jurisdiction_level") or "").upper()
    level = _LEVEL_ALIASES.get(level, level)
    if level not in JurisdictionKind.__members__:
        parsed.reject(
            number, "jurisdiction_level", "must be state, county, city, place or tribal", level
        )
        return None
    state = parsed.state(number, values.get("state"))
    if state is None:
        return None
    status = (values.get("status") or "").upper()
    if status not in PolicyStatus.__members__:
        parsed.reject(
            number,
            "status",
            "must be one of " + ", ".join(PolicyStatus),
            values.get("status"),
        )
        return None
    raw_sanctuary = (values.get("declared_sanctuary") or "").lower()
    sanctuary = _BOOLEANS.get(raw_sanctuary)
    if sanctuary is None and raw_sanctuary:
        parsed.reject(
            number,
            "declared_sanctuary",
            "must be true or false",
            values.get("declared_sanctuary"),
        )
        return None
    effective: dt.date | None = None
    if values.get("effective_date"):
        try:
            effective = dt.date.fromisoformat(values["effective_date"] or "")
        except ValueError:
            parsed.reject(
                number,
                "effective_date",
                "must be a date YYYY-MM-DD",
                values["effective_date"],
            )
            return None
    kind = JurisdictionKind[level]
    name = state.name if kind is JurisdictionKind.STATE else values.get("name")
    if not name:
        parsed.reject(number, "name", "missing jurisdiction name", None)
        return None
    if kind is JurisdictionKind.COUNTY:  # counties exist already: the gazetteer's name
        county = county_by_fips().get(values.get("fips") or "")
        match = match_county(state.usps, name) if county is None else None
        county = county or (match.county if match else None)
        if county is None or county.state_code != state.usps:
            parsed.reject(number, "name", f"not a county of {state.usps}", name)
            return None
        name = county.name
    basis = _basis(parsed, number, values, effective)
    if basis is None:
        return None
    source_date = _first_date(values.get("source_date"))
    if values.get("source_date") and source_date is None:
        parsed.reject(number, "source_date", "must be a date YYYY-MM-DD", values["source_date"])
        return None
    source_date = source_date or _first_date(values.get("source_title")) or _first_date(label)
    county_fips = None
    if kind is JurisdictionKind.PLACE and spans_counties(state.usps, name):
        pass  # New York City: in its state, never in one of its five counties
    elif kind is JurisdictionKind.PLACE:
        county = county_of_place(state.usps, name)
        if county is None:
            parsed.repair(
                number, "name", "the place's county is not in the gazetteer; placed in its state",
                name,
            )  # fmt: skip
        else:
            county_fips = county.fips
    policy_name = values.get("policy_name")
    source_url = values.get("source_url")
    return PolicyRow(
        row_number=number,
        kind=kind,
        state_code=state.usps,
        name=name,
        name_key=jurisdiction_key(kind, name),
        fips=values.get("fips"),
        status=PolicyStatus[status],
        declared_sanctuary=sanctuary,
        policy_name=policy_name,
        policy_key=f"{name_key(policy_name or '')}|{effective or ''}|{source_url or ''}",
        effective_date=effective,
        source_title=values.get("source_title"),
        source_url=source_url,
        notes=values.get("notes"),
        source_key=source_key(values.get("source_title")),
        source_date=source_date,
        basis=basis,
        county_fips=county_fips,
    )


POLICIES = CsvSource(
    dataset=DATASET,
    parse=parse_policy_csv,
    merge=merge_policies,
    help="jurisdiction policy CSV (format in docs/data.md)",
    description="Load a policy CSV (file or URL): dated, cited claims about jurisdictions.",
    remove=remove_policies,
)


async def load_policy_document(
    target: AsyncEngine | AsyncConnection, document: SourceDocument, settings: Settings
) -> tuple[int | None, LoadCounts]:
    """(load run id, counts); the run id is None when these exact bytes were loaded before."""
    return await POLICIES.load(target, document)
