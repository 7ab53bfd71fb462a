"""An agency's page: its agreements (model, status, signed date, MOA), each with a timeline
from the snapshot history (first seen, activated, renamed or relisted, switched to another
model, ended or withdrawn) and the file and sha256
behind every value; its jurisdiction and the policy in force there; its officials and MOA
documents when loaded; the data-quality report's flags on each agreement (an MOA link
naming another agency, an impossible date, an MOA whose date the list contradicts); and the
ICE detainers at the jails it runs (issue #22)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries import (
    agencies,
    changes,
    detainers,
    documents,
    jurisdictions,
    lineage,
    quality,
    reference,
    timeline,
)
from open287g.db.queries.agencies import AgencyRecord, OfficialRecord
from open287g.db.queries.documents import DocumentRecord
from open287g.db.queries.jurisdictions import JurisdictionRecord, PolicyRecord
from open287g.db.queries.lineage import LinkRecord
from open287g.db.queries.quality import Flag, FlagKind
from open287g.db.queries.timeline import ArchiveStart, Sighting
from open287g.db.reference_data import STATES, State
from open287g.pages.agreements import agreements
from open287g.pages.jails import Jails, jails

AGREEMENT_FIELDS = (
    "status signedOn signedRaw moaUrl addendumUrls firstSeen lastSeen activatedOn"
    " observations(first: 100) { edges { node { publishedOn kind dataset { name sha256 } } } }"
)

# The report's flags an agency page shows (a rename is already in the timeline).
PAGE_FLAGS = frozenset(FlagKind) - {FlagKind.RENAME_LINK}


@dataclass(frozen=True)
class Renaming:
    """A rename link and the agreement at its other end."""

    link: LinkRecord
    other: SimpleNamespace  # the agreement (`pages.agreements`)
    other_agency: AgencyRecord


@dataclass
class AgreementView:
    agreement: SimpleNamespace  # `pages.agreements`
    model_name: str
    sightings: dict[str, Sighting]
    renamed_to: list[Renaming] = field(default_factory=list)
    renamed_from: list[Renaming] = field(default_factory=list)
    document: DocumentRecord | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def values_from(self) -> Sighting | None:
        """The list the current signed date and MOA link come from."""
        return self.sightings.get("LATEST_PARTICIPATING") or self.sightings.get("LAST_SEEN")

    @property
    def activated_separately(self) -> bool:
        """Activated on a later list than the one that first named it (pending first)."""
        first, activated = self.sightings.get("FIRST_SEEN"), self.sightings.get("ACTIVATED")
        return activated is not None and (
            first is None or (first.source_file_id != activated.source_file_id)
        )


@dataclass
class AgencyView:
    version: changes.DataVersion
    agency: AgencyRecord
    state: State
    agreements: list[AgreementView]
    jurisdiction: JurisdictionRecord | None
    jurisdiction_parents: list[JurisdictionRecord]
    policy: PolicyRecord | None
    policy_holder: JurisdictionRecord | None
    officials: list[OfficialRecord]
    archive: ArchiveStart
    jails: Jails  # detainers at the jails it runs (exact), by facility
    documents_loaded: bool = True  # any MOA document at all (`make run` loads none)

    @property
    def documents(self) -> list[tuple[AgreementView, DocumentRecord]]:
        return [(a, a.document) for a in self.agreements if a.document is not None]


async def _renamings(
    conn: AsyncConnection, ids: list[int]
) -> tuple[dict[int, list[Renaming]], dict[int, list[Renaming]]]:
    links = await lineage.links_of(conn, ids)
    others = {link.successor_id for link in links} | {link.predecessor_id for link in links}
    other_agreements = {g.id: g for g in await agreements(conn, ids=sorted(others))}
    other_agencies = await agencies.agencies_by_ids(
        conn, sorted({g.agency.id for g in other_agreements.values()})
    )
    to: dict[int, list[Renaming]] = {i: [] for i in ids}
    came_from: dict[int, list[Renaming]] = {i: [] for i in ids}
    for link in links:
        if link.predecessor_id in to and link.successor_id in other_agreements:
            successor = other_agreements[link.successor_id]
            to[link.predecessor_id].append(
                Renaming(link, successor, other_agencies[successor.agency.id])
            )
        if link.successor_id in came_from and link.predecessor_id in other_agreements:
            predecessor = other_agreements[link.predecessor_id]
            came_from[link.successor_id].append(
                Renaming(link, predecessor, other_agencies[predecessor.agency.id])
            )
    return to, came_from


async def _place(
    conn: AsyncConnection, agency: AgencyRecord
) -> tuple[JurisdictionRecord | None, list[JurisdictionRecord], PolicyRecord | None]:
    """The agency's jurisdiction, its parents (county, state) and the policy in force there
    (its own, else its county's, else its state's: `effective_policies`)."""
    place_id = agency.jurisdiction_id
    if place_id is None:  # an agency without a place of its own: its state's policy
        states = await jurisdictions.jurisdiction_page(
            conn, jurisdictions.JurisdictionFilter(state=agency.state_code, kind="STATE"), 1, None
        )
        state = states.items[0] if states.items else None
        if state is None:
            return None, [], None
        return None, [state], (await jurisdictions.effective_policies(conn, [state.id]))[state.id]
    place = (await jurisdictions.jurisdictions_by_ids(conn, [place_id])).get(place_id)
    parents: list[JurisdictionRecord] = []
    current = place
    while current is not None and current.parent_id is not None and len(parents) < 3:
        current = (await jurisdictions.jurisdictions_by_ids(conn, [current.parent_id])).get(
            current.parent_id
        )
        if current is not None:
            parents.append(current)
    policy = (await jurisdictions.effective_policies(conn, [place_id]))[place_id]
    return place, parents, policy


async def agency_view(conn: AsyncConnection, agency_id: int) -> AgencyView | None:
    agency = (await agencies.agencies_by_ids(conn, [agency_id])).get(agency_id)
    if agency is None:
        return None
    version = await changes.data_version(conn)
    records = await agreements(conn, agency_ids=[agency_id])
    ids = [g.id for g in records]
    seen = await timeline.sightings(conn, ids)
    renamed_to, renamed_from = await _renamings(conn, ids)
    moas = await documents.documents_of_agreements(conn, ids)
    names = {m.code: m.name for m in await reference.program_models(conn)}
    flags: dict[int, list[Flag]] = {}
    for flag in await quality.quality_flags(conn, PAGE_FLAGS, agreement_ids=ids):
        flags.setdefault(flag.agreement_id, []).append(flag)
    views = [
        AgreementView(
            g, names.get(g.model.code, g.model.code), seen.get(g.id, {}),
            renamed_to.get(g.id, []), renamed_from.get(g.id, []), moas.get(g.id),
            flags.get(g.id, []),
        )
        for g in sorted(records, key=lambda g: (g.status != "ACTIVE", g.model.code))
    ]  # fmt: skip
    place, parents, policy = await _place(conn, agency)
    holder = None
    if policy is not None:
        known = {j.id: j for j in ([place] if place else []) + parents}
        holder = known.get(policy.jurisdiction_id) or (
            await jurisdictions.jurisdictions_by_ids(conn, [policy.jurisdiction_id])
        ).get(policy.jurisdiction_id)
    officials = (await agencies.officials_of_agencies(conn, [agency_id]))[agency_id]
    return AgencyView(
        version=version,
        agency=agency,
        state=next(s for s in STATES if s.usps == agency.state_code),
        agreements=views,
        jurisdiction=place,
        jurisdiction_parents=parents,
        policy=policy,
        policy_holder=holder,
        officials=officials,
        archive=await timeline.archive_start(conn),
        jails=await jails(conn, detainers.DetainerFilter(agency=agency_id), agency.state_code),
        documents_loaded=(await reference.files_per_dataset(conn)).get("moas", 0) > 0,
    )
