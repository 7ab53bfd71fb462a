"""A state's page: its agreements (sortable without script), policy status with source and
date, its counties with FIPS codes, and detainer statistics from the same disclosure-
controlled query both APIs publish (`db/queries/detainers.py`; the exact totals by
facility and month, never a raw cell)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries import (
    agencies,
    changes,
    detainers,
    jurisdictions,
    policies,
    reference,
    timeline,
)
from open287g.db.queries.agencies import AgencyRecord
from open287g.db.queries.agreements import AgreementFilter
from open287g.db.queries.detainers import DetainerDimension, DetainerStatRow
from open287g.db.queries.jurisdictions import JurisdictionRecord, PolicyRecord
from open287g.db.reference_data import STATES, State, UnknownState, resolve_state
from open287g.pages.agreements import agreements
from open287g.pages.jails import detainer_releases, partial_months

SORT_KEYS = ("agency", "type", "county", "model", "status", "signed", "first_seen")
DEFAULT_SORT = "agency"
PAGE_ROWS = 1000  # jurisdictions and policies read per query (a state's are read in full)
TOP_FACILITIES = 15
MODEL_ORDER = {
    "JAIL_ENFORCEMENT": 0,
    "TASK_FORCE": 1,
    "WARRANT_SERVICE_OFFICER": 2,
    "TRIBAL_TASK_FORCE": 3,
}
STATUS_ORDER = {"ACTIVE": 0, "PENDING": 1, "ENDED": 2, "WITHDRAWN": 3, "RENAMED": 4}


def state_code(raw: str) -> str | None:
    try:
        return resolve_state(raw)
    except UnknownState:
        return None


@dataclass(frozen=True)
class AgreementRow:
    agreement: SimpleNamespace  # `pages.agreements`
    agency: AgencyRecord


@dataclass(frozen=True)
class CountyRow:
    jurisdiction: JurisdictionRecord
    agencies: int


@dataclass(frozen=True)
class PolicyRow:
    policy: PolicyRecord
    jurisdiction: JurisdictionRecord | None


@dataclass
class StateView:
    version: changes.DataVersion
    state: State
    sort: str
    policy: PolicyRow | None
    local_policies: list[PolicyRow]
    state_policies: list[PolicyRecord]  # every assertion about the state, side by side
    rows: list[AgreementRow]
    by_status: Counter[str]
    agency_count: int
    counties: list[CountyRow]
    detainer_total: DetainerStatRow | None
    detainer_months: list[DetainerStatRow]
    detainer_facilities: list[DetainerStatRow]
    facility_count: int
    facility_names: dict[str, str]  # facility code → name
    sort_keys: tuple[str, ...] = SORT_KEYS
    by_model: Counter[str] = field(default_factory=Counter)
    archive: timeline.ArchiveStart = field(default_factory=lambda: timeline.ArchiveStart(None, {}))
    at_start: set[int] = field(default_factory=set)  # agreements first seen at the start
    files_loaded: dict[str, int] = field(default_factory=dict)  # source files per dataset
    detainer_releases: list[reference.DatasetRecord] = field(default_factory=list)
    partial_months: dict[dt.date, str] = field(default_factory=dict)  # month → "through …"

    @property
    def detainers_loaded(self) -> bool:
        return self.files_loaded.get("detainers", 0) > 0


def _sort_key(key: str) -> Callable[[AgreementRow], tuple[Any, ...]]:
    def by(row: AgreementRow) -> tuple[Any, ...]:
        a, g = row.agency, row.agreement
        name = a.name.casefold()
        if key == "agency":
            return (name, MODEL_ORDER.get(g.model.code, 9))
        if key == "type":
            return (a.type, name)
        if key == "county":
            return ((a.county or "~").casefold(), name)
        if key == "model":
            return (MODEL_ORDER.get(g.model.code, 9), name)
        if key == "status":
            return (STATUS_ORDER.get(g.status, 9), name)
        if key == "signed":  # unknown dates last either way round (see `sorted_rows`)
            return (g.signed_on or dt.date.min, name)
        return (g.first_seen, name)

    return by


def sorted_rows(rows: list[AgreementRow], sort: str) -> list[AgreementRow]:
    key = sort.lstrip("-")
    ordered = sorted(rows, key=_sort_key(key), reverse=sort.startswith("-"))
    if key == "signed":  # agreements without a signed date go last in both directions
        ordered = [r for r in ordered if r.agreement.signed_on] + [
            r for r in ordered if not r.agreement.signed_on
        ]
    return ordered


async def _all_jurisdictions(conn: AsyncConnection, code: str) -> list[JurisdictionRecord]:
    found: list[JurisdictionRecord] = []
    cursor = None
    while True:
        page = await jurisdictions.jurisdiction_page(
            conn, jurisdictions.JurisdictionFilter(state=code), PAGE_ROWS, cursor
        )
        found.extend(page.items)
        if not page.has_next:
            return found
        cursor = page.end_cursor


async def state_view(conn: AsyncConnection, code: str, sort: str, min_cell: int) -> StateView:
    version = await changes.data_version(conn)
    found = await agreements(conn, AgreementFilter(state=code))
    agency_records = await agencies.agencies_by_ids(conn, sorted({g.agency.id for g in found}))
    rows = [AgreementRow(g, agency_records[g.agency.id]) for g in found]
    places = await _all_jurisdictions(conn, code)
    by_id = {j.id: j for j in places}
    state_place = next((j for j in places if j.kind == "STATE"), None)

    policy = None
    state_policies: list[PolicyRecord] = []
    if state_place is not None:
        effective = (await jurisdictions.effective_policies(conn, [state_place.id]))[state_place.id]
        policy = PolicyRow(effective, state_place) if effective else None
        state_policies = (await jurisdictions.policies_of(conn, [state_place.id]))[state_place.id]
    stated = (
        await policies.policy_page(conn, policies.PolicyFilter(state=code), PAGE_ROWS, None)
    ).items
    local = [
        PolicyRow(p, by_id.get(p.jurisdiction_id))
        for p in stated
        if state_place is None or p.jurisdiction_id != state_place.id
    ]

    # Agencies per county: an agency's jurisdiction is the county or a city inside it.
    per_county: Counter[int] = Counter()
    for record in agency_records.values():
        place = by_id.get(record.jurisdiction_id) if record.jurisdiction_id else None
        while place is not None and place.kind not in ("COUNTY", "STATE"):
            place = by_id.get(place.parent_id) if place.parent_id else None
        if place is not None and place.kind == "COUNTY":
            per_county[place.id] += 1
    counties = sorted(
        (CountyRow(j, per_county[j.id]) for j in places if j.kind == "COUNTY"),
        key=lambda c: c.jurisdiction.name,
    )

    filters = detainers.DetainerFilter(state=code)
    releases = await detainer_releases(conn)
    total = await detainers.detainer_stats(conn, [], filters, min_cell=min_cell)
    months = await detainers.detainer_stats(
        conn, [DetainerDimension.MONTH], filters, min_cell=min_cell
    )
    facilities = await detainers.detainer_stats(
        conn, [DetainerDimension.FACILITY], filters, min_cell=min_cell
    )
    by_model: Counter[str] = Counter(g.model.code for g in found if g.status == "ACTIVE")
    statuses: Counter[str] = Counter(g.status for g in found)
    return StateView(
        version=version,
        state=next(s for s in STATES if s.usps == code),
        sort=sort,
        policy=policy,
        local_policies=local,
        state_policies=state_policies,
        rows=sorted_rows(rows, sort),
        by_status=statuses,
        agency_count=len(agency_records),
        counties=counties,
        detainer_total=total[0] if total else None,
        detainer_months=months,
        detainer_facilities=sorted(facilities, key=lambda r: -(r.issued or 0))[:TOP_FACILITIES],
        facility_count=len(facilities),
        facility_names=await detainers.facility_names(conn, code),
        by_model=by_model,
        archive=await timeline.archive_start(conn),
        at_start=await timeline.first_seen_at_start(conn, [g.id for g in found]),
        files_loaded=await reference.files_per_dataset(conn),
        detainer_releases=releases,
        partial_months=partial_months(releases),
    )
