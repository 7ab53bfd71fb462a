"""Synthetic ICE list sequences for the agreement's life (#21): each agency follows one
pattern the real lists show only some of (a rename, a name that changes and changes back,
a misspelled duplicate beside the right name, a relisting after a long gap, a model
switch, a few lists under the wrong state, a withdrawn application, a termination), with
the outcome it must have: one lineage (a switch: two agreements, linked), its head, and
each record's status.

Pure data: `Sequence.lists()` gives every list's rows; `write_xlsx` writes them as ICE's
spreadsheets for the real loader; `candidates` derives what the matcher reads, as
`db/ingest/lineage.py` does from the database.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from open287g.db.lineage_match import Candidate, LinkKind, fold
from tests.support.fixtures import PENDING_HEADER, STATE_CODES, Link, ice_xlsx

START = dt.date(2025, 5, 15)
STEP_DAYS = 3
LISTS = 30  # 87 days: room for a relisting after more than 14 days' absence
STATE_NAMES = {code: name for name, code in STATE_CODES.items() if name != "UTAHJ"}
MODEL_LABELS = {
    "TASK_FORCE": "Task Force Model",
    "WARRANT_SERVICE_OFFICER": "Warrant Service Officer",
    "JAIL_ENFORCEMENT": "Jail Enforcement Model",
}
# Invented places, far apart from each other (no two cores score near 90).
PLACES = (
    "Abernathy", "Brightwater", "Coldspring", "Dunmorrow", "Elkhollow", "Foxbriar",
    "Glenhaven", "Hartwick", "Ironbridge", "Juniperton", "Kestrelwood", "Larkspur",
    "Moonvale", "Northgrove", "Oakhurst", "Pinecrest", "Quarryville", "Ravensworth",
    "Silverlake", "Thornbury", "Umberleigh", "Valemount", "Westerholm", "Yarrowfield",
)  # fmt: skip
PATTERNS = (
    "stable", "waiting", "rename", "change_back", "duplicate", "relisting", "switch", "wrong_state",
    "wrong_state_unproven", "withdrawn", "ended",
)  # fmt: skip


def day(index: int) -> dt.date:
    return START + dt.timedelta(days=STEP_DAYS * index)


@dataclass(frozen=True)
class Row:
    """One agreement as one list shows it."""

    state: str
    name: str
    model: str
    signed: dt.date | None = None
    moa: str | None = None

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.state, fold(self.name), self.model)


@dataclass
class Agency:
    """One agency's pattern: its rows per list (index → (kind, row)), and what must follow."""

    pattern: str
    sightings: dict[int, list[tuple[str, Row]]] = field(default_factory=dict)
    head: tuple[str, str, str] | None = None  # the lineage's record at the end
    statuses: dict[tuple[str, str, str], str] = field(default_factory=dict)
    links: dict[tuple[tuple[str, str, str], tuple[str, str, str]], LinkKind] = field(
        default_factory=dict
    )
    suspect: bool = False  # a wrong state the lists cannot prove: flagged, not linked

    def show(self, indexes: range, kind: str, row: Row) -> None:
        for i in indexes:
            self.sightings.setdefault(i, []).append((kind, row))


def _misspell(place: str, rng: random.Random) -> str:
    at = rng.randrange(2, len(place) - 2)
    return place[:at] + place[at + 1 :]  # one letter dropped: ratio ≥ 90 for ≥ 9 letters


def make_agency(pattern: str, place: str, state: str, rng: random.Random) -> Agency:
    """One agency following `pattern`, its breakpoints drawn from `rng`."""
    a = Agency(pattern)
    sheriff = f"{place} County Sheriff's Office"
    police = f"{place} Police Department"
    moa = f"https://www.ice.gov/doclib/287gMOA/{place}{state}_MOA.pdf"
    signed = dt.date(2025, rng.randrange(1, 5), rng.randrange(1, 28))
    tf = "TASK_FORCE"
    active = Row(state, sheriff, tf, signed, moa)
    end = LISTS
    k = rng.randrange(4, LISTS - 10)
    if pattern == "stable":
        a.show(range(0, end), "participating", active)
        a.head, a.statuses[active.identity] = active.identity, "ACTIVE"
    elif pattern == "waiting":
        applied = Row(state, sheriff, tf)
        a.show(range(0, end), "pending", applied)
        a.head, a.statuses[applied.identity] = applied.identity, "PENDING"
    elif pattern == "rename":
        new = Row(state, f"City of {police}" if rng.random() < 0.5 else police, tf, signed)
        old = Row(state, police if new.name.startswith("City") else f"City of {police}", tf,
                  signed)  # fmt: skip
        gap = rng.randrange(0, 4)  # lists skipped between the two names (≤ 9 days)
        a.show(range(0, k), "participating", old)
        a.show(range(k + gap, end), "participating", new)
        a.head = new.identity
        a.statuses = {old.identity: "RENAMED", new.identity: "ACTIVE"}
        a.links[(old.identity, new.identity)] = LinkKind.RENAME
    elif pattern == "change_back":
        wrong = Row(state, _misspell(place, rng) + " County Sheriff's Office", tf, signed, moa)
        back = rng.randrange(k + 1, k + 4)
        a.show(range(0, k), "participating", active)
        a.show(range(k, back), "participating", wrong)
        a.show(range(back, end), "participating", active)
        a.head = active.identity
        a.statuses = {wrong.identity: "RENAMED", active.identity: "ACTIVE"}
        a.links[(wrong.identity, active.identity)] = LinkKind.RENAME
    elif pattern == "duplicate":
        twin = Row(state, _misspell(place, rng) + " County Sheriff's Office", tf, signed)
        a.show(range(0, end), "participating", active)
        a.show(range(k, k + rng.randrange(1, 4)), "participating", twin)
        a.head = active.identity
        a.statuses = {twin.identity: "RENAMED", active.identity: "ACTIVE"}
        a.links[(twin.identity, active.identity)] = LinkKind.RENAME
    elif pattern == "relisting":
        old = Row(state, f"{place} Township Constable", tf)
        new = Row(state, f"{place} Township, {state}", tf)
        back = k + rng.randrange(6, 10)  # 18 to 27 days absent
        a.show(range(0, k), "pending", old)
        a.show(range(back, end), "pending", new)
        a.head = new.identity
        a.statuses = {old.identity: "RENAMED", new.identity: "PENDING"}
        a.links[(old.identity, new.identity)] = LinkKind.RELISTING
    elif pattern == "switch":
        wso = Row(state, sheriff, "WARRANT_SERVICE_OFFICER", signed)
        task = Row(state, sheriff, tf, signed + dt.timedelta(days=40))
        arrive = k + rng.randrange(1, 4)
        a.show(range(0, k), "participating", wso)
        a.show(range(arrive, arrive + 2), "pending", task)
        a.show(range(arrive + 2, end), "participating", task)
        a.head = task.identity
        # Two agreements: the WSO ended (its switchedTo is the task force), not renamed.
        a.statuses = {wso.identity: "ENDED", task.identity: "ACTIVE"}
        a.links[(wso.identity, task.identity)] = LinkKind.SWITCH
    elif pattern in ("wrong_state", "wrong_state_unproven"):
        other = "GA" if state != "GA" else "AL"
        proven = pattern == "wrong_state"
        away = Row(other, sheriff, tf, signed if proven else None, moa if proven else None)
        back = rng.randrange(k + 1, k + 4)
        a.show(range(0, k), "participating", active)
        a.show(range(k, back), "participating" if proven else "pending", away)
        a.show(range(back, end), "participating", active)
        a.head = active.identity
        if proven:
            a.statuses = {away.identity: "RENAMED", active.identity: "ACTIVE"}
            a.links[(away.identity, active.identity)] = LinkKind.STATE
        else:
            a.statuses = {away.identity: "WITHDRAWN", active.identity: "ACTIVE"}
            a.suspect = True
    elif pattern == "withdrawn":
        applied = Row(state, sheriff, tf)
        a.show(range(0, k), "pending", applied)
        a.head, a.statuses[applied.identity] = applied.identity, "WITHDRAWN"
    elif pattern == "ended":
        a.show(range(0, k), "pending", Row(state, sheriff, tf))
        a.show(range(k, k + 3), "participating", active)
        a.head, a.statuses[active.identity] = active.identity, "ENDED"
    else:  # pragma: no cover - PATTERNS lists every pattern above
        raise ValueError(pattern)
    return a


@dataclass
class Sequence:
    agencies: list[Agency]

    def lists(self) -> Iterator[tuple[str, int, list[Row]]]:
        """(kind, list index, rows) of every list, oldest first."""
        for i in range(LISTS):
            for kind in ("pending", "participating"):
                rows = [r for a in self.agencies for k, r in a.sightings.get(i, []) if k == kind]
                yield kind, i, rows


def generate(seed: int, patterns: tuple[str, ...] = PATTERNS, copies: int = 1) -> Sequence:
    """Every pattern `copies` times, each agency in its own place (and a state of its own
    draw), breakpoints from the seed; beside them an agency listed active throughout and
    one pending throughout, so both lists go on to the end as ICE's do."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    wanted = ["stable", "waiting"] + [p for p in patterns for _ in range(copies)]
    places = rng.sample(PLACES, len(wanted))
    states = ["TX", "FL", "PA", "OH", "TN"]
    pairs = zip(wanted, places, strict=True)
    return Sequence([make_agency(p, place, rng.choice(states), rng) for p, place in pairs])


def candidates(sequence: Sequence) -> tuple[list[Candidate], dict[tuple[str, str, str], int]]:
    """What the matcher reads, derived from the lists as `db/ingest/lineage.py` derives it
    from the database; and the id given to each identity."""
    seen: dict[tuple[str, str, str], list[tuple[dt.date, Row]]] = {}
    latest: dict[str, set[tuple[str, str, str]]] = {}
    for kind, index, rows in sequence.lists():
        if rows:  # an empty list is not written (`write_xlsx`): the loader never sees it
            latest[kind] = {r.identity for r in rows}
        for row in rows:
            seen.setdefault(row.identity, []).append((day(index), row))
    current = latest.get("pending", set()) | latest.get("participating", set())
    ids = {identity: n for n, identity in enumerate(sorted(seen), start=1)}
    found = []
    for identity, sightings in seen.items():
        dates = sorted({d for d, _ in sightings})
        rows = [r for _, r in sightings]
        found.append(
            Candidate(
                ids[identity], identity[0], identity[2], rows[-1].name, dates[0], dates[-1],
                identity in current, frozenset(r.moa for r in rows if r.moa), tuple(dates),
                frozenset(r.signed for r in rows if r.signed),
            )
        )  # fmt: skip
    return found, ids


def write_xlsx(sequence: Sequence, folder: Path) -> list[Path]:
    """The sequence as ICE's spreadsheets (file names carry the dates, as ICE's do)."""
    paths = []
    for kind, index, rows in sequence.lists():
        if not rows:
            continue
        stamp = day(index).strftime("%m%d%Y")
        # A title line makes each day's file its own bytes (identical files load once).
        title = [f"287(g) {kind} agencies, {day(index)}"]
        if kind == "pending":
            data = ice_xlsx(
                [(STATE_NAMES[r.state], r.name, "County", None, MODEL_LABELS[r.model])
                 for r in rows],
                PENDING_HEADER,
                preamble=title,
            )  # fmt: skip
            path = folder / f"pendingAgencies{stamp}am.xlsx"
        else:
            data = ice_xlsx(
                [(STATE_NAMES[r.state], r.name, "County", None, MODEL_LABELS[r.model],
                  dt.datetime.combine(r.signed, dt.time()) if r.signed else "TBD",
                  Link("link", r.moa) if r.moa else "link pending", None)
                 for r in rows],
                preamble=title,
            )  # fmt: skip
            path = folder / f"participatingAgencies{stamp}am.xlsx"
        path.write_bytes(data)
        paths.append(path)
    return paths
