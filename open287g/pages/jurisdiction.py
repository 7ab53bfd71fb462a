"""A jurisdiction's page (`/jurisdictions/{id}`): every county and place has one, named by
ICE or not (Harris County, TX). It shows the policy status in force with the rule that
derived it and the assertion it comes from, every assertion about the jurisdiction and
about the places around it that apply to it (its county's, its state's), the places
inside it, the agencies serving it, and the ICE detainers at the jails placed in it
(issue #22; exact counts, no personal attribute)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db import gazetteer
from open287g.db.queries import agencies, changes, detainers, jurisdictions
from open287g.db.queries.agencies import AgencyRecord
from open287g.db.queries.jurisdictions import JurisdictionRecord, PolicyRecord
from open287g.pages.jails import Jails, jails

MAX_AGENCIES = 200
MAX_PLACES = 400
RULE = (
    "The status in force is derived from every assertion: the most specific jurisdiction "
    "that has one wins (the place's own, else its county's, else its state's); among its "
    "assertions, law outranks a government's designation, which outranks a report; then "
    "the most recent source."
)


@dataclass(frozen=True)
class Assertions:
    jurisdiction: JurisdictionRecord
    policies: list[PolicyRecord]


@dataclass
class JurisdictionView:
    version: changes.DataVersion
    jurisdiction: JurisdictionRecord
    parents: list[JurisdictionRecord]  # county, state (nearest first)
    policy: PolicyRecord | None
    holder: JurisdictionRecord | None  # whose assertion is in force
    assertions: list[Assertions]  # its own first, then its parents' (that apply to it)
    places: list[JurisdictionRecord]
    agencies: list[AgencyRecord]
    jails: Jails  # detainers at the jails in it (exact), by facility
    spans: tuple[gazetteer.County, ...] = ()  # the counties a multi-county place holds
    rule: str = RULE
    max_agencies: int = MAX_AGENCIES

    @property
    def state(self) -> JurisdictionRecord:
        return ([self.jurisdiction, *self.parents])[-1]


async def jurisdiction_view(conn: AsyncConnection, jurisdiction_id: int) -> JurisdictionView | None:
    place = (await jurisdictions.jurisdictions_by_ids(conn, [jurisdiction_id])).get(jurisdiction_id)
    if place is None:
        return None
    version = await changes.data_version(conn)
    parents: list[JurisdictionRecord] = []
    current = place
    while current.parent_id is not None and len(parents) < 3:
        parent = (await jurisdictions.jurisdictions_by_ids(conn, [current.parent_id])).get(
            current.parent_id
        )
        if parent is None:
            break
        parents.append(parent)
        current = parent
    spans = gazetteer.spans_counties(place.state_code, place.name) if place.kind == "PLACE" else ()
    if spans:  # a place over several counties lies in its state, not in one of them
        parents = [p for p in parents if p.kind == "STATE"]
    chain = [place, *parents]
    stated = await jurisdictions.policies_of(conn, [j.id for j in chain])
    policy = (await jurisdictions.effective_policies(conn, [place.id]))[place.id]
    holder = next((j for j in chain if policy and j.id == policy.jurisdiction_id), None)
    return JurisdictionView(
        version=version,
        jurisdiction=place,
        parents=parents,
        policy=policy,
        holder=holder,
        assertions=[Assertions(j, stated[j.id]) for j in chain if stated[j.id]],
        places=(await jurisdictions.children_of(conn, place.id))[:MAX_PLACES],
        agencies=await agencies.agencies_within(conn, place.id, MAX_AGENCIES),
        jails=await jails(conn, detainers.DetainerFilter(jurisdiction=place.id), place.state_code),
        spans=spans,
    )
