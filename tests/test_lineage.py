"""Renames are not terminations: the rename matcher's rules, the links it makes on the 54
real snapshots (and no others), order independence, and the reviewed overrides CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.db.ingest.lineage import recompute_lineage
from open287g.db.lineage_match import Candidate, Link, name_score, propose, resolve
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.lineage_overrides import load_overrides_document
from open287g.loaders.sources import read_path
from tests.conftest import create_database_copy, drop_database
from tests.fixtures import ICE_DIR

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
REAL_TERMINATIONS = {
    ("GA", "Spalding County Sheriff's Office"),
    ("KS", "Ellis County Sheriff's Office"),
    ("MN", "Jackson County Sheriff's Office"),
    ("MT", "Cascade County Sheriff's Office"),
    ("PA", "Butler County Sheriff's Office"),
    ("PA", "East Donegal Township Constable"),
    ("PA", "Pleasant Township Constable"),
    ("TX", "San Jacinto County Sheriff's Office"),
    ("VA", "Portsmouth County Sheriff's Office"),
    ("WI", "Walworth County Sheriff's Office"),
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
    older = _candidate(4, "Melbourne Police Dept", "2025-05-01", "2025-07-11", current=True)
    wrong_url = _candidate(
        5, "Edgewood PD", "2025-05-16", "2025-06-01", current=False, urls=frozenset({"u"})
    )
    other = _candidate(6, "Edgewater PD", "2025-06-01", "2025-07-11", current=True,
                       urls=frozenset({"u"}))  # fmt: skip
    links = propose([old, new, late, older, wrong_url, other])
    # Arriving a month after, or listed before the old name, is not a rename.
    assert [(link.predecessor_id, link.successor_id) for link in links] == [(1, 2)]
    assert links[0].method == "name-similarity"
    assert links[0].score == 100
    arrivals = {c.id: c.first_seen for c in (old, new)}
    # A reviewed unlink forbids it; a reviewed link wins; no loops, one successor each.
    assert resolve(links, arrivals, forbidden=frozenset({(1, 2)})) == []
    forced = [Link(1, 3, "override", None, "reviewed"), Link(3, 1, "override", None, "loop")]
    assert [(x.predecessor_id, x.successor_id) for x in resolve(links, arrivals, forced)] == [
        (1, 3)
    ]


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> None:
    if not ICE_DIR.is_dir():
        pytest.skip(f"{ICE_DIR} not present")
    await load_sources(engine, plan_sources([str(ICE_DIR)]), Settings())


_LINKS = """
SELECT p.state_code, CAST(p.model_code AS text), ap.name, an.name, l.method, l.score
FROM agreement_links l
JOIN agreements p ON p.id = l.predecessor_id JOIN agencies ap ON ap.id = p.agency_id
JOIN agreements n ON n.id = l.successor_id JOIN agencies an ON an.id = n.agency_id
"""


async def _links(conn: AsyncConnection) -> dict[tuple[str, str, str, str], tuple[str, float]]:
    return {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in await conn.execute(text(_LINKS))}


async def _status(conn: AsyncConnection, status: str) -> set[tuple[str, str]]:
    rows = await conn.execute(
        text(
            "SELECT g.state_code, a.name FROM agreements g JOIN agencies a ON a.id = g.agency_id"
            " WHERE g.status = CAST(:s AS agreement_status)"
        ),
        {"s": status},
    )
    return {(r[0], r[1]) for r in rows}


async def test_real_renames_are_linked_and_no_others(loaded: None, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        links = await _links(conn)
        renamed = await _status(conn, "RENAMED")
        ended = await _status(conn, "ENDED")
        moved = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM agreement_links l JOIN agreements p"
                    " ON p.id = l.predecessor_id JOIN agreements n ON n.id = l.successor_id"
                    " WHERE (p.state_code, p.model_code) <> (n.state_code, n.model_code)"
                )
            )
        ).scalar_one()
    assert set(links) == RENAMES
    assert moved == 0
    methods = {key: method for key, (method, _) in links.items()}
    # The identical MOA URL is the evidence where ICE kept it.
    assert methods[RENAMES_BY_OLD["Town of Palm Beach Police Department"]] == "moa-url"
    assert methods[RENAMES_BY_OLD["Indialantic Police Department"]] == "name-similarity"
    assert all(score >= 60 for _, score in links.values())
    assert renamed == {(state, old) for state, _, old, _ in RENAMES}
    # Only real terminations are ENDED.
    assert ended == REAL_TERMINATIONS


RENAMES_BY_OLD = {old: (state, model, old, new) for state, model, old, new in RENAMES}


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
    assert (stats["ENDED"], stats["RENAMED"]) == (10, 16)


async def test_lineage_is_idempotent(loaded: None, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await conn.run_sync(recompute_lineage) == set()


@pytest.fixture
async def reverse_engine(server_url: URL, template_url: URL) -> AsyncIterator[AsyncEngine]:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    yield engine
    await engine.dispose()
    await drop_database(server_url, url)


async def test_lineage_does_not_depend_on_load_order(
    loaded: None, engine: AsyncEngine, reverse_engine: AsyncEngine
) -> None:
    planned = plan_sources([str(ICE_DIR)])
    await load_sources(reverse_engine, list(reversed(planned)), Settings())
    async with engine.connect() as a, reverse_engine.connect() as b:
        assert await _links(a) == await _links(b)
        assert await _status(a, "ENDED") == await _status(b, "ENDED")


async def test_reviewed_overrides_link_and_unlink(
    loaded: None, conn: AsyncConnection, tmp_path: Path
) -> None:
    csv = tmp_path / "overrides.csv"
    csv.write_text(
        "action,state,model,predecessor,successor,successor_state,note\n"
        "unlink,FL,WARRANT_SERVICE_OFFICER,Okaloosa County Sheriff's Office,"
        "Okaloosa County Department of Corrections,,the MOA is the county's: a transfer\n"
        "link,KS,Warrant Service Officer Model,Ellis County Sheriffs Office,"
        "Ellis County Sheriff's Office,TX,ICE moved the row from KS to TX\n"
        "link,FL,TASK_FORCE,Nowhere Police Department,Melbourne Police Department,,\n"
        "merge,FL,TASK_FORCE,a,b,,\n",
        encoding="utf-8",
    )
    run_id, counts = await load_overrides_document(conn, read_path(str(csv), 10**6))
    assert run_id is not None
    assert (counts.rows_read, counts.inserted, counts.rejected) == (4, 2, 2)
    links = await _links(conn)
    assert RENAMES_BY_OLD["Okaloosa County Sheriff's Office"] not in links
    assert links[("KS", "WARRANT_SERVICE_OFFICER", "Ellis County Sheriff's Office",
                  "Ellis County Sheriff's Office")][0] == "override"  # fmt: skip
    ended = await _status(conn, "ENDED")
    assert ("FL", "Okaloosa County Sheriff's Office") in ended
    assert ("KS", "Ellis County Sheriff's Office") not in ended
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
    assert changed == 4  # both ends of the removed and of the added link
