"""Renames are not terminations: the lineage matcher's rules, the links it makes on the 54
real snapshots (and no others), the statuses that follow, order independence, and the
reviewed overrides CSV. The real snapshots are the run's loaded template (tests/support/live.py),
copied for this module, not loaded again."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.db.ingest.lineage import recompute_lineage
from open287g.db.lineage_match import Candidate, Link, LinkKind, name_score, propose, resolve
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.lineage_overrides import LINEAGE_OVERRIDES
from open287g.loaders.sources import read_path
from tests.support.database import LINEAGE_FIRST_SEEN, database_copy
from tests.support.fixtures import ICE_DIR
from tests.support.graphql_support import database_url, needs_data

__all__ = ["database_url"]  # this module's database: a copy of the loaded template

# (state, model, old name, new name): every rename in the 54 lists, reviewed by hand.
RENAMES = {
    ("AR", "TASK_FORCE", "Arkansas State Police", "Arkansas State Police Department"),
    ("FL", "TASK_FORCE", "City of Melbourne Police Department", "Melbourne Police Department"),
    ("FL", "TASK_FORCE", "City of Miami Springs Police Department",
     "Miami Springs Police Department"),
    ("FL", "TASK_FORCE", "City of St. Cloud Police Department", "St. Cloud Police Department"),
    ("FL", "TASK_FORCE", "City of Zephyrhills Police Department",
     "Zephyrhills Police Department"),
    ("FL", "TASK_FORCE", "Indialantic Police Department", "Indiatlantic Police Department"),
    ("FL", "TASK_FORCE", "Lake Clark Shores Police Department",
     "Lake Clarke Shores Police Department"),
    ("FL", "TASK_FORCE", "Town of Palm Beach Police Department", "Palm Beach Police Department"),
    ("FL", "TASK_FORCE", "University of West Florida Board of Trustees",
     "University of West Florida Police Department"),
    ("FL", "WARRANT_SERVICE_OFFICER", "Okaloosa County Sheriff's Office",
     "Okaloosa County Department of Corrections"),
    ("IN", "TASK_FORCE", "Green Forks Police Department", "Greens Forks Police Department"),
    ("LA", "TASK_FORCE", "Arnaudville Police Department, LA", "Arnaudville Police Department"),
    ("LA", "WARRANT_SERVICE_OFFICER", "Lafourche County Sheriff's Office",
     "Lafourche Parish Sheriff's Office"),
    ("MI", "WARRANT_SERVICE_OFFICER", "Berrian County Sheriff's Offic",
     "Berrian County Sheriff's Office"),
    ("PA", "TASK_FORCE", "Lower Burrell Fourth Ward Constable's Office",
     "Lower Burrell Fourth Ward Constable"),
    ("TN", "TASK_FORCE", "Tennessee Department of Safety and Homeland Security / THP",
     "Tennessee Department of Safety and Homeland Security"),
}  # fmt: skip
# East Donegal Township PA: pending 2025-05-21, relisted under a new name 51 days later.
RELISTINGS = {
    ("PA", "TASK_FORCE", "East Donegal Township Constable", "East Donegal Township, PA"),
}
# Butler PA: WSO (signed 2025-05-22, active 5/23 to 6/4), then a Task Force MOA (pending
# 6/10, signed 6/12, active from 6/17): the same sheriff under another model.
SWITCHES = {
    ("PA", "WARRANT_SERVICE_OFFICER", "Butler County Sheriff's Office",
     "Butler County Sheriff's Office"),
}  # fmt: skip
# Active agreements that left the lists: Walworth WI's WSO, Jackson MN's JEM (its WSO goes on).
REAL_TERMINATIONS = {
    ("MN", "Jackson County Sheriff's Office"),
    ("WI", "Walworth County Sheriff's Office"),
}
# Pending applications that left without becoming active. Ellis County KS (pending 5/30 to
# 7/7) may be Ellis County TX's WSO (active from 7/9) listed under the wrong state, but the
# lists carry no MOA URL or signing date to prove it: flagged, not linked.
WITHDRAWN = {
    ("GA", "Spalding County Sheriff's Office"),
    ("KS", "Ellis County Sheriff's Office"),
    ("MT", "Cascade County Sheriff's Office"),
    ("PA", "Pleasant Township Constable"),
    ("TX", "San Jacinto County Sheriff's Office"),
    ("VA", "Portsmouth County Sheriff's Office"),
}


@pytest.mark.parametrize(
    ("old", "new", "state", "at_least", "below"),
    [
        ("Indialantic Police Department", "Indiatlantic Police Department", "FL", 90, 101),
        ("City of Melbourne Police Department", "Melbourne Police Department", "FL", 100, 101),
        ("Lafourche County Sheriff's Office", "Lafourche Parish Sheriff's Office", "LA", 100, 101),
        ("Arkansas State Police", "Arkansas State Police Department", "AR", 100, 101),
        ("Berrian County Sheriff's Offic", "Berrian County Sheriff's Office", "MI", 100, 101),
        ("Arnaudville Police Department, LA", "Arnaudville Police Department", "LA", 100, 101),
        # Different places keep different scores, however alike the rest of the name.
        ("Ellis County Sheriff's Office", "Jewell County Sheriff's Office", "KS", 0, 90),
        ("Town of Palm Beach Police Department", "North Palm Beach Police Department", "FL", 0, 90),
        ("Walworth County Sheriff's Office", "Wood County Sheriff's Office", "WI", 0, 90),
        ("Calhoun County Sheriff’s Office", "Calhoun County Sheriff's Office", "AL", 100, 101),
    ],
)
def test_name_score_compares_the_places_not_the_kind_of_body(
    old: str, new: str, state: str, at_least: float, below: float
) -> None:
    assert at_least <= name_score(old, new, state) < below


def _candidate(
    id_: int, name: str, first: str, last: str, *, current: bool, urls: frozenset[str] = frozenset()
) -> Candidate:
    return Candidate(
        id_, "FL", "TASK_FORCE", name, dt.date.fromisoformat(first), dt.date.fromisoformat(last),
        current, urls,
    )  # fmt: skip


def test_matcher_rules_timing_url_floor_and_one_to_one() -> None:
    old = _candidate(1, "City of Melbourne PD", "2025-05-16", "2025-05-19", current=False)
    new = _candidate(2, "Melbourne PD", "2025-05-20", "2025-07-11", current=True)
    late = _candidate(3, "Melbourne Police", "2025-06-20", "2025-07-11", current=True)
    beside = _candidate(4, "Melbourne Police Dept", "2025-05-01", "2025-07-11", current=True)
    too_late = _candidate(7, "Melbourne Pd", "2025-10-01", "2025-10-11", current=True)
    wrong_url = _candidate(
        5, "Edgewood PD", "2025-05-16", "2025-06-01", current=False, urls=frozenset({"u"})
    )
    other = _candidate(6, "Edgewater PD", "2025-06-01", "2025-07-11", current=True,
                       urls=frozenset({"u"}))  # fmt: skip
    links = propose([old, new, late, beside, too_late, wrong_url, other])
    # The next day's new name is a rename; a month later, a relisting; a name listed
    # beside the old one all along is where the old one went (gap 0); four months later
    # is nothing; a shared URL between two different places is no proof.
    found = {(x.predecessor_id, x.successor_id): (x.kind, x.gap_days) for x in links}
    assert found == {
        (1, 2): (LinkKind.RENAME, 1),
        (1, 3): (LinkKind.RELISTING, 32),
        (1, 4): (LinkKind.RENAME, 0),
    }
    assert all(x.method == "name-similarity" and x.score == 100 for x in links)
    arrivals = {c.id: c.first_seen for c in (old, new, late, beside)}
    # One successor: the shortest gap wins among equals.
    assert [(x.predecessor_id, x.successor_id) for x in resolve(links, arrivals)] == [(1, 4)]
    # A reviewed unlink forbids a pair; a reviewed link wins; no loops, one successor each.
    forbidden = frozenset({(1, 2), (1, 3), (1, 4)})
    assert resolve(links, arrivals, forbidden=forbidden) == []
    forced = [Link(1, 3, "override", None, "reviewed"), Link(3, 1, "override", None, "loop")]
    assert [(x.predecessor_id, x.successor_id) for x in resolve(links, arrivals, forced)] == [
        (1, 3)
    ]


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> None:
    """The module's database holds the 54 snapshots already (the loaded template)."""
    if not ICE_DIR.is_dir():
        pytest.skip(f"{ICE_DIR} not present")


_LINKS = """
SELECT p.state_code, CAST(p.model_code AS text), ap.name, an.name, l.method, l.score, l.kind
FROM agreement_links l
JOIN agreements p ON p.id = l.predecessor_id JOIN agencies ap ON ap.id = p.agency_id
JOIN agreements n ON n.id = l.successor_id JOIN agencies an ON an.id = n.agency_id
"""


async def _links(
    conn: AsyncConnection, kind: str | None = "RENAME"
) -> dict[tuple[str, str, str, str], tuple[str, float | None]]:
    """The links of one kind (None: every kind)."""
    return {
        (r[0], r[1], r[2], r[3]): (r[4], r[5])
        for r in await conn.execute(text(_LINKS))
        if kind is None or r[6] == kind
    }


async def _status(conn: AsyncConnection, status: str) -> set[tuple[str, str]]:
    rows = await conn.execute(
        text(
            "SELECT g.state_code, a.name FROM agreements g JOIN agencies a ON a.id = g.agency_id"
            " WHERE g.status = CAST(:s AS agreement_status)"
        ),
        {"s": status},
    )
    return {(r[0], r[1]) for r in rows}


@needs_data
async def test_real_renames_are_linked_and_no_others(loaded: None, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        links = await _links(conn)
        relistings = await _links(conn, "RELISTING")
        switches = await _links(conn, "SWITCH")
        every = await _links(conn, None)
        statuses = {s: await _status(conn, s) for s in ("RENAMED", "ENDED", "WITHDRAWN")}
        moved = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM agreement_links l JOIN agreements p"
                    " ON p.id = l.predecessor_id JOIN agreements n ON n.id = l.successor_id"
                    " WHERE (p.state_code, p.model_code) <> (n.state_code, n.model_code)"
                    " AND l.kind <> 'SWITCH'"
                )
            )
        ).scalar_one()
    assert set(links) == RENAMES
    assert set(relistings) == RELISTINGS
    assert set(switches) == SWITCHES
    assert len(every) == len(RENAMES) + len(RELISTINGS) + len(SWITCHES)
    assert moved == 0
    methods = {key: method for key, (method, _) in links.items()}
    # The identical MOA URL is the evidence where ICE kept it.
    assert methods[RENAMES_BY_OLD["Town of Palm Beach Police Department"]] == "moa-url"
    assert methods[RENAMES_BY_OLD["Indialantic Police Department"]] == "name-similarity"
    assert all((score or 0) >= 60 for _, score in every.values())
    assert statuses["RENAMED"] == {(st, old) for st, _, old, _ in RENAMES | RELISTINGS}
    # Only real terminations are ENDED (a model switch ends the old agreement: it names the
    # new one as its switchedTo); applications that never became active, WITHDRAWN.
    assert statuses["ENDED"] == REAL_TERMINATIONS | {(st, old) for st, _, old, _ in SWITCHES}
    assert statuses["WITHDRAWN"] == WITHDRAWN


@needs_data
async def test_ends_carry_the_first_list_without_them(loaded: None, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT g.state_code, a.name, CAST(g.status AS text), g.last_seen, g.left_on"
                " FROM agreements g JOIN agencies a ON a.id = g.agency_id"
                " WHERE g.status IN ('ENDED', 'WITHDRAWN')"
            )
        )
        found = {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}
    d = dt.date
    # Walworth's last participating list is 7/7 am; the 7/7 pm one lacks it.
    assert found[("WI", "Walworth County Sheriff's Office", "ENDED")] == (
        d(2025, 7, 7), d(2025, 7, 7))  # fmt: skip
    assert found[("MN", "Jackson County Sheriff's Office", "ENDED")] == (
        d(2025, 7, 9), d(2025, 7, 11))  # fmt: skip
    # Withdrawn from the pending list of 5/21 pm: absent from the next (5/23 am).
    assert found[("GA", "Spalding County Sheriff's Office", "WITHDRAWN")] == (
        d(2025, 5, 21), d(2025, 5, 23))  # fmt: skip
    assert found[("VA", "Portsmouth County Sheriff's Office", "WITHDRAWN")] == (
        d(2025, 6, 10), d(2025, 6, 17))  # fmt: skip
    assert found[("PA", "Butler County Sheriff's Office", "ENDED")] == (
        d(2025, 6, 4), d(2025, 6, 6))  # fmt: skip
    assert all(last <= left for last, left in found.values())


RENAMES_BY_OLD = {old: (state, model, old, new) for state, model, old, new in RENAMES}


@needs_data
async def test_renamed_agreements_keep_their_history(loaded: None, engine: AsyncEngine) -> None:
    from open287g.db.queries.lineage import lineage_first_seen

    async with engine.connect() as conn:
        old_id, new_id, new_first = (
            await conn.execute(
                text(
                    "SELECT l.predecessor_id, l.successor_id, n.first_seen FROM agreement_links l"
                    " JOIN agreements n ON n.id = l.successor_id JOIN agencies a"
                    " ON a.id = n.agency_id WHERE a.name = 'Indiatlantic Police Department'"
                )
            )
        ).one()
        first = await lineage_first_seen(conn, [old_id, new_id])
        stats: dict[str, int] = dict(
            (
                await conn.execute(
                    text("SELECT CAST(status AS text), count(*) FROM agreements GROUP BY 1")
                )
            ).all()
        )
    assert new_first == dt.date(2025, 5, 19)
    assert first == {old_id: dt.date(2025, 5, 16), new_id: dt.date(2025, 5, 16)}
    assert "SWITCHED" not in stats  # not a status (SPEC): a switch is an ENDED agreement
    assert (stats["ENDED"], stats["WITHDRAWN"], stats["RENAMED"]) == (3, 6, 17)


@needs_data
async def test_lineage_is_idempotent(loaded: None, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await conn.run_sync(recompute_lineage) == set()


# The read model's rule, walked here: the first sight of each agreement's lineage.
_STALE_FIRST_SIGHTS = f"""
WITH walked(id, first_seen) AS ({LINEAGE_FIRST_SEEN})
SELECT g.id, g.lineage_first_seen, w.first_seen FROM agreements g JOIN walked w ON w.id = g.id
WHERE g.lineage_first_seen IS DISTINCT FROM w.first_seen
"""


async def _stale_first_sights(conn: AsyncConnection) -> list[tuple[int, dt.date, dt.date]]:
    """Agreements whose stored lineage_first_seen is not the walk's (none, ever)."""
    return [tuple(row) for row in (await conn.execute(text(_STALE_FIRST_SIGHTS))).all()]


async def _earlier_lineages(conn: AsyncConnection) -> int:
    return int(
        (
            await conn.execute(
                text("SELECT count(*) FROM agreements WHERE lineage_first_seen < first_seen")
            )
        ).scalar_one()
    )


@pytest.fixture
async def reverse_engine(server_url: URL, template_url: URL) -> AsyncIterator[AsyncEngine]:
    async with database_copy(server_url, template_url, poolclass=NullPool) as engine:
        yield engine


@needs_data
async def test_lineage_does_not_depend_on_load_order(
    loaded: None, engine: AsyncEngine, reverse_engine: AsyncEngine
) -> None:
    planned = plan_sources([str(ICE_DIR)])
    await load_sources(reverse_engine, list(reversed(planned)), Settings())
    async with engine.connect() as a, reverse_engine.connect() as b:
        assert await _links(a, None) == await _links(b, None)
        for status in ("ENDED", "WITHDRAWN", "RENAMED"):
            assert await _status(a, status) == await _status(b, status)
        # The stored first sights (a read model the loads keep) are the walk's, either way.
        assert await _stale_first_sights(a) == []
        assert await _stale_first_sights(b) == []
        assert await _earlier_lineages(a) == await _earlier_lineages(b) > 0


@needs_data
async def test_reviewed_overrides_link_and_unlink(
    loaded: None, conn: AsyncConnection, tmp_path: Path
) -> None:
    """The README's examples: a reviewer who knows better unlinks a relisting and a
    switch, and links the Ellis County rows the lists alone cannot prove are one."""
    csv = tmp_path / "overrides.csv"
    csv.write_text(
        "action,state,model,predecessor,successor,successor_state,successor_model,note\n"
        'unlink,PA,TASK_FORCE,East Donegal Township Constable,"East Donegal Township, PA",,,'
        "the July application is a new one\n"
        "unlink,PA,WARRANT_SERVICE_OFFICER,Butler County Sheriff's Office,"
        "Butler County Sheriff's Office,,"
        "Task Force Model,the WSO agreement was terminated on its own\n"
        "link,KS,Warrant Service Officer Model,Ellis County Sheriffs Office,"
        "Ellis County Sheriff's Office,TX,,the KS application is Ellis County TX's WSO\n"
        "link,FL,TASK_FORCE,Nowhere Police Department,Melbourne Police Department,,,\n"
        "merge,FL,TASK_FORCE,a,b,,,\n",
        encoding="utf-8",
    )
    run_id, counts = await LINEAGE_OVERRIDES.load(conn, read_path(str(csv), 10**6))
    assert run_id is not None
    assert (counts.rows_read, counts.inserted, counts.rejected) == (5, 3, 2)
    assert await _links(conn, "RELISTING") == {}
    assert await _links(conn, "SWITCH") == {}
    state_links = await _links(conn, "STATE")
    assert state_links == {
        ("KS", "WARRANT_SERVICE_OFFICER", "Ellis County Sheriff's Office",
         "Ellis County Sheriff's Office"): ("override", None),
    }  # fmt: skip
    assert ("PA", "East Donegal Township Constable") in await _status(conn, "WITHDRAWN")
    assert ("PA", "Butler County Sheriff's Office") in await _status(conn, "ENDED")
    assert ("KS", "Ellis County Sheriff's Office") in await _status(conn, "RENAMED")
    assert await _stale_first_sights(conn) == []  # kept in the overrides' transaction
    reasons = {
        r[0]
        for r in await conn.execute(
            text("SELECT reason FROM load_issues WHERE load_run_id = :r"), {"r": run_id}
        )
    }
    assert reasons == {
        "no TASK_FORCE agreement of that agency in FL",
        "action must be link or unlink",
    }
    changed = (
        await conn.execute(
            text("SELECT count(*) FROM changes WHERE load_run_id = :r AND entity = 'agreement'"),
            {"r": run_id},
        )
    ).scalar_one()
    assert changed == 6  # both ends of the two removed links and of the added one


@needs_data
async def test_signed_per_month_counts_each_agreement_once(
    loaded: None, engine: AsyncEngine
) -> None:
    """Agreements signed per month equal the distinct agreements (lineages, found here by
    following the links by hand; a model switch is two agreements), dated by their first
    signing; list rows only on request.
    February 2025 has 155 agreements (156 rows: Okaloosa's rename), April 106 (113)."""
    from open287g.db.queries.agreements import (
        AgreementCountBy,
        AgreementDimension,
        AgreementFilter,
        agreement_stats,
    )

    async with engine.connect() as conn:
        signed: dict[int, dt.date | None] = {
            int(r[0]): r[1]
            for r in await conn.execute(text("SELECT id, signed_on FROM agreements"))
        }
        links: dict[int, int] = {
            int(r[0]): int(r[1])
            for r in await conn.execute(
                text(
                    "SELECT predecessor_id, successor_id FROM agreement_links"
                    " WHERE kind <> 'SWITCH'"
                )
            )
        }
        month = [AgreementDimension.SIGNED_MONTH]
        by_lineage = await agreement_stats(conn, month, AgreementFilter())
        by_row = await agreement_stats(
            conn, month, AgreementFilter(), count_by=AgreementCountBy.LIST_ROWS
        )

    def head(agreement: int) -> int:
        while agreement in links:
            agreement = links[agreement]
        return agreement

    first: dict[int, dt.date | None] = {}
    for agreement, on in signed.items():
        h = head(agreement)
        known = first.get(h)
        first[h] = on if known is None else (known if on is None else min(known, on))
    expected: dict[str | None, int] = {}
    for on in first.values():
        key = on.strftime("%Y-%m") if on else None
        expected[key] = expected.get(key, 0) + 1
    lineages = {k[AgreementDimension.SIGNED_MONTH]: n for k, n in by_lineage}
    rows = {k[AgreementDimension.SIGNED_MONTH]: n for k, n in by_row}
    assert lineages == expected
    assert sum(lineages.values()) == len(signed) - len(links)
    assert (lineages["2025-02"], lineages["2025-04"]) == (155, 106)
    assert (rows["2025-02"], rows["2025-04"]) == (156, 113)
