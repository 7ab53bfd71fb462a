"""Per-request DataLoaders: every nested field is fetched in one SQL statement per level,
whatever the page size (no N+1). Each batch borrows a pooled connection.

A DataLoader hands every field asking for a key the same Future. graphql-core cancels the
sibling fields of one whose error nulls their parent, and cancelling a task cancels the
Future it awaits: another field, elsewhere in the query, then woke up with CancelledError
and the whole request failed (the differential test found it). `SharedLoader` gives each
waiter its own shield, so a cancelled field never cancels the shared Future.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry.dataloader import DataLoader

from open287g.db.queries import (
    agencies,
    agreements,
    documents,
    jurisdictions,
    lineage,
    observations,
    reference,
)
from open287g.db.queries.agencies import AgencyRecord, OfficialRecord
from open287g.db.queries.agreements import AgreementRecord
from open287g.db.queries.documents import DocumentRecord
from open287g.db.queries.jurisdictions import JurisdictionRecord, PolicyRecord
from open287g.db.queries.lineage import Lineage
from open287g.db.queries.observations import ObservationRecord, PageKey
from open287g.db.queries.pagination import Page
from open287g.db.queries.reference import DatasetRecord, ProgramModelRecord

K = TypeVar("K")
V = TypeVar("V")


def _batched(
    engine: AsyncEngine,
    fetch: Callable[[AsyncConnection, Sequence[K]], Awaitable[Mapping[K, V]]],
    missing: Callable[[], V],
) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> list[V]:
        async with engine.connect() as conn:
            found = await fetch(conn, keys)
        return [found[key] if key in found else missing() for key in keys]

    return SharedLoader(load_fn=load)


class SharedLoader(DataLoader[K, V]):
    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class Loaders:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.agreement: DataLoader[int, AgreementRecord | None] = _batched(
            engine, agreements.agreements_by_ids, lambda: None
        )
        self.agency: DataLoader[int, AgencyRecord | None] = _batched(
            engine, agencies.agencies_by_ids, lambda: None
        )
        self.jurisdiction: DataLoader[int, JurisdictionRecord | None] = _batched(
            engine, jurisdictions.jurisdictions_by_ids, lambda: None
        )
        self.agreements_of_agency: DataLoader[int, list[AgreementRecord]] = _batched(
            engine, agreements.agreements_of_agencies, list
        )
        self.agencies_of_jurisdiction: DataLoader[int, list[AgencyRecord]] = _batched(
            engine, agencies.agencies_of_jurisdictions, list
        )
        self.officials_of_agency: DataLoader[int, list[OfficialRecord]] = _batched(
            engine, agencies.officials_of_agencies, list
        )
        self.policy_of_jurisdiction: DataLoader[int, PolicyRecord | None] = _batched(
            engine, jurisdictions.effective_policies, lambda: None
        )
        self.program_model: DataLoader[str, ProgramModelRecord | None] = _batched(
            engine, _models_by_code, lambda: None
        )
        self.document_of_agreement: DataLoader[int, DocumentRecord | None] = _batched(
            engine, documents.documents_of_agreements, lambda: None
        )
        self.lineage: DataLoader[int, Lineage | None] = _batched(
            engine, lineage.lineages, lambda: None
        )
        self.observations: DataLoader[PageKey, Page[ObservationRecord]] = _batched(
            engine, observations.observation_pages_by_key, lambda: Page([], False, [])
        )
        self.dataset: DataLoader[int, DatasetRecord | None] = _batched(
            engine, _datasets_by_id, lambda: None
        )


async def _datasets_by_id(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, DatasetRecord]:
    wanted = set(ids)
    return {d.id: d for d in await reference.datasets(conn) if d.id in wanted}


async def _models_by_code(
    conn: AsyncConnection, codes: Sequence[str]
) -> dict[str, ProgramModelRecord]:
    return {model.code: model for model in await reference.program_models(conn)}
