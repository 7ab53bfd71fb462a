"""Load the jurisdiction policy CSV of SPEC "Policy CSV": dated, cited claims about what a
state, county, city or tribe does about cooperation with ICE."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.policies import PolicyRow, merge_policies
from open287g.db.ingest.provenance import (
    IssueRecord,
    LoadCounts,
    begin_load,
    file_transaction,
    find_load_of,
    finish_load,
    lock_dataset,
)
from open287g.db.models.enums import IssueAction, JurisdictionKind, PolicyStatus
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.jurisdictions import jurisdiction_key
from open287g.loaders.normalize import clean_text, lookup_state, name_key
from open287g.loaders.sources import SourceDocument

DATASET = "policies"
REQUIRED = ("jurisdiction_level", "state", "name", "status", "declared_sanctuary")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass
class ParsedPolicies:
    rows: list[PolicyRow]
    issues: list[IssueRecord]
    rows_read: int


def parse_policy_csv(label: str, data: bytes) -> ParsedPolicies:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(label, f"not UTF-8 text (byte {exc.start}); is this a CSV file?") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [name_key(h).lower().replace(" ", "_") for h in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise LoadError(label, f"missing required column(s): {', '.join(missing)}")
    reader.fieldnames = header
    parsed = ParsedPolicies([], [], 0)
    for number, raw in enumerate(reader, start=2):
        values = {k: clean_text(v) for k, v in raw.items() if k is not None}
        if not any(values.values()):
            continue
        parsed.rows_read += 1
        row = _parse_row(parsed, number, values)
        if row is not None:
            parsed.rows.append(row)
    return parsed


def _reject(parsed: ParsedPolicies, number: int, column: str, reason: str, value: object) -> None:
    parsed.issues.append(
        IssueRecord(
            number, column, IssueAction.REJECTED, reason, None if value is None else str(value)
        )
    )


def _parse_row(
    parsed: ParsedPolicies, number: int, values: dict[str, str | None]
) -> PolicyRow | None:
    level = (values.get("jurisdiction_level") or "").upper()
    if level not in JurisdictionKind.__members__:
        _reject(
            parsed, number, "jurisdiction_level", "must be state, county, city or tribal", level
        )
        return None
    state, guessed = lookup_state(values.get("state"))
    if state is None:
        _reject(parsed, number, "state", "unknown state", values.get("state"))
        return None
    if guessed:
        parsed.issues.append(
            IssueRecord(
                number,
                "state",
                IssueAction.REPAIRED,
                f"misspelled state read as {state.name}",
                values.get("state"),
            )
        )
    status = (values.get("status") or "").upper()
    if status not in PolicyStatus.__members__:
        _reject(
            parsed,
            number,
            "status",
            "must be one of " + ", ".join(PolicyStatus),
            values.get("status"),
        )
        return None
    sanctuary = _BOOLEANS.get((values.get("declared_sanctuary") or "").lower())
    if sanctuary is None:
        _reject(
            parsed,
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
            _reject(
                parsed,
                number,
                "effective_date",
                "must be a date YYYY-MM-DD",
                values["effective_date"],
            )
            return None
    kind = JurisdictionKind[level]
    name = state.name if kind is JurisdictionKind.STATE else values.get("name")
    if not name:
        _reject(parsed, number, "name", "missing jurisdiction name", None)
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
    started = dt.datetime.now(dt.UTC)
    parsed = parse_policy_csv(document.label, document.data)
    if parsed.rows_read == 0:
        raise LoadError(document.label, "the file has no data rows")
    async with file_transaction(target) as conn:
        await lock_dataset(conn, DATASET)
        if await find_load_of(conn, DATASET, document.sha256) is not None:
            return None, LoadCounts(rows_read=parsed.rows_read, unchanged=len(parsed.rows))
        start = await begin_load(
            conn,
            dataset=DATASET,
            name=document.name,
            url=document.url or document.path,
            sha256=document.sha256,
            size=len(document.data),
            fetched_at=document.fetched_at,
            started_at=started,
        )
        counts = await merge_policies(conn, start.load_run_id, parsed.rows)
        counts.rows_read = parsed.rows_read
        await finish_load(conn, start.load_run_id, counts, parsed.issues)
        return start.load_run_id, counts
