"""The agreement's life on generated list sequences (#21): every pattern ICE's lists show,
or could (`tests/support/lifecycle_lists.py`), ends as one lineage with its history, never a
phantom agreement plus a phantom termination. The matcher's rules on many sequences
(Hypothesis), then one seeded sequence through the real loader and both status rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.lineage_match import LinkKind, propose, resolve, state_suspects
from open287g.db.queries.agreements import (
    AgreementCountBy,
    AgreementDimension,
    AgreementFilter,
    agreement_stats,
)
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.text import name_key
from tests.support.lifecycle_lists import (
    PATTERNS,
    Agency,
    Sequence,
    candidates,
    generate,
    write_xlsx,
)

Identity = tuple[str, str, str]


def _expected_links(sequence: Sequence) -> dict[tuple[Identity, Identity], str]:
    return {pair: kind.value for a in sequence.agencies for pair, kind in a.links.items()}


def _identities(agency: Agency) -> set[Identity]:
    return {row.identity for rows in agency.sightings.values() for _, row in rows}


def _unproven(agency: Agency) -> set[Identity]:
    """The record of a wrong state the lists cannot prove: it stays on its own, flagged."""
    return {i for i, status in agency.statuses.items() if agency.suspect and i != agency.head}


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    patterns=st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=14),
)
def test_every_pattern_ends_as_one_lineage(seed: int, patterns: list[str]) -> None:
    sequence = generate(seed, tuple(patterns))
    found, ids = candidates(sequence)
    identity_of = {n: identity for identity, n in ids.items()}
    arrivals = {c.id: c.first_seen for c in found}
    links = resolve(propose(found), arrivals)
    made = {
        (identity_of[x.predecessor_id], identity_of[x.successor_id]): x.kind.value for x in links
    }
    assert made == _expected_links(sequence)
    successors = {old for old, _ in made}
    for agency in sequence.agencies:
        # One head per agency: every other record it was listed under points on to it.
        assert _identities(agency) - successors == {agency.head} | _unproven(agency)
    flagged = {identity_of[s.old_id] for s in state_suspects(found, links)}
    assert flagged == set().union(*(_unproven(a) for a in sequence.agencies))


@pytest.fixture(scope="module")
def sequence() -> Sequence:
    return generate(seed=20261207, copies=2)


@pytest.fixture(scope="module")
async def loaded(
    engine: AsyncEngine, sequence: Sequence, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("lifecycle")
    paths = write_xlsx(sequence, folder)
    await load_sources(engine, plan_sources([str(p) for p in paths]), Settings())


async def _records(conn: AsyncConnection) -> Iterator[tuple[Identity, str, object]]:
    rows = await conn.execute(
        text(
            "SELECT g.state_code, a.name, CAST(g.model_code AS text), CAST(g.status AS text),"
            " g.left_on FROM agreements g JOIN agencies a ON a.id = g.agency_id"
        )
    )
    return iter([((r[0], r[1], r[2]), r[3], r[4]) for r in rows])


def _key(identity: Identity) -> tuple[str, str, str]:
    return (identity[0], name_key(identity[1]), identity[2])


async def test_generated_lists_through_the_loader(
    loaded: None, sequence: Sequence, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        records = {_key(i): (status, left) for i, status, left in await _records(conn)}
        links = {
            (_key((r[0], r[1], r[2])), _key((r[3], r[4], r[5]))): r[6]
            for r in await conn.execute(
                text(
                    "SELECT p.state_code, ap.name, CAST(p.model_code AS text), n.state_code,"
                    " an.name, CAST(n.model_code AS text), l.kind FROM agreement_links l"
                    " JOIN agreements p ON p.id = l.predecessor_id"
                    " JOIN agencies ap ON ap.id = p.agency_id"
                    " JOIN agreements n ON n.id = l.successor_id"
                    " JOIN agencies an ON an.id = n.agency_id"
                )
            )
        }
        by_status = await agreement_stats(conn, [AgreementDimension.STATUS], AgreementFilter())
        rows = await agreement_stats(
            conn, [], AgreementFilter(), count_by=AgreementCountBy.LIST_ROWS
        )
    wanted = {
        _key(identity): status for a in sequence.agencies for identity, status in a.statuses.items()
    }
    assert {key: status for key, (status, _) in records.items()} == wanted
    # Every record that left carries the first list without it; those listed, none.
    for status, left in records.values():
        assert (left is None) == (status in ("ACTIVE", "PENDING"))
    expected = {
        (_key(old), _key(new)): kind for (old, new), kind in _expected_links(sequence).items()
    }
    assert links == expected
    # Counted as agreements: one per agency (its lineage's head), by the head's status; a
    # model switch is two agreements (the one switched from ENDED).
    heads: dict[str, int] = {}
    for agency in sequence.agencies:
        assert agency.head is not None
        switched = {old for (old, _), kind in agency.links.items() if kind is LinkKind.SWITCH}
        for identity in {agency.head} | switched:
            status = agency.statuses[identity]
            heads[status] = heads.get(status, 0) + 1
    # The unproven wrong state stays a record of its own (flagged, not linked).
    heads["WITHDRAWN"] = heads.get("WITHDRAWN", 0) + sum(a.suspect for a in sequence.agencies)
    assert {key[AgreementDimension.STATUS]: n for key, n in by_status} == heads
    assert rows == [({}, len(records))]
