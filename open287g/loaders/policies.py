"""Load the jurisdiction policy CSV of SPEC "Policy CSV": dated, cited claims about what a
state, county, city or tribe does about cooperation with ICE."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.policies import PolicyRow, merge_policies
from open287g.db.ingest.provenance import LoadCounts
from open287g.db.models.enums import JurisdictionKind, PolicyStatus
from open287g.loaders.csv_documents import ParsedCsv, csv_records, load_csv_document
from open287g.loaders.ice287g.jurisdictions import jurisdiction_key
from open287g.loaders.normalize import name_key
from open287g.loaders.sources import SourceDocument

DATASET = "policies"
REQUIRED = ("jurisdiction_level", "state", "name", "status", "declared_sanctuary")
_LEVEL_ALIASES = {"CITY": "PLACE", "TOWN": "PLACE", "TRIBE": "TRIBAL"}
"""SPEC's CSV says `city`; a city, town or other place is a `PLACE` jurisdiction."""
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_policy_csv(label: str, data: bytes) -> ParsedCsv[PolicyRow]:
    parsed: ParsedCsv[PolicyRow] = ParsedCsv()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        row = _parse_row(parsed, number, values)
        if row is not None:
            parsed.rows.append(row)
    return parsed


def _parse_row(
    parsed: ParsedCsv[PolicyRow], number: int, values: dict[str, str | None]
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
    sanctuary = _BOOLEANS.get((values.get("declared_sanctuary") or "").lower())
    if sanctuary is None:
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
    )


async def load_policy_document(
    target: AsyncEngine | AsyncConnection, document: SourceDocument, settings: Settings
) -> tuple[int | None, LoadCounts]:
    """(load run id, counts); the run id is None when these exact bytes were loaded before."""
    return await load_csv_document(
        target, document, dataset=DATASET, parse=parse_policy_csv, merge=merge_policies
    )
