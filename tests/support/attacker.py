"""A differencing attacker against the detainer statistics, for tests/db/test_disclosure.py.

It asks both APIs (REST JSON, CSV and NDJSON exports, GraphQL over HTTP) through the real
app, and reasons the way a careful attacker would:

- `Knowledge` is what two queries give away at once: every finest personal cell as
  published (`group_by=state,facility,month,outcome,criminality,citizenship`; a cell not
  listed was published as 0) and every exact facility × month × outcome total. The
  attacker checks that every other answer, of any query, equals the sum of these; an
  answer that did not would be information outside them (and fails the test).
- `parts` then bounds what that knowledge says about each personal slice of each group
  (facility × month × outcome), knowing the rounding rule (each cell published as its
  count rounded down or up to a multiple of the base, so a published p > 0 means a count in
  [p − base + 1, p + base − 1] and a published 0 one in [0, base − 1]) and the group's exact
  total. Groups are independent (no published number spans a part of two groups), so any
  target's interval is the sum of its parts' intervals, and a target is known exactly only
  if every part is.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

DIMS = ("state", "facility", "month", "outcome", "criminality", "citizenship")
PERSONAL = frozenset({"criminality", "citizenship"})
MEASURES = ("issued", "declined", "booked_into_detention", "pending")
MEASURE_OF_OUTCOME = {
    "DECLINED_BY_AGENCY": "declined",
    "BOOKED_INTO_DETENTION": "booked_into_detention",
    "PENDING": "pending",
}
GRAPHQL_MEASURES = {"bookedIntoDetention": "booked_into_detention"}
APIS = ("json", "csv", "ndjson", "graphql")

Cell = tuple[str, str, str, str, str, str]  # DIMS (facility: its code), month as ISO date
Group = tuple[str, str, str, str]  # state, facility, month, outcome
Key = tuple[str, ...]
Table = dict[Key, dict[str, int]]


FACILITY_NAMES: dict[str, str] = {}  # facility code → name, filled by the test's world
# Dimensions of the facility: the ids of the agency running it and of the county it is
# placed in ("" where none). Filled by the test's world from the facility list the API
# publishes (/v1/facilities), like the names; STATE_IDS: each state jurisdiction's id.
DERIVED = ("agency", "jurisdiction")
FACILITY_PLACES: dict[str, dict[str, str]] = {}
STATE_IDS: dict[str, str] = {}  # state jurisdiction id → USPS code


def facility_matches(word: str, facility: str) -> bool:
    """The service's facility filter: the code exactly, or part of the name."""
    name = FACILITY_NAMES.get(facility, facility)
    return facility == word.strip().upper() or word.lower() in name.lower()


def value_of(dimension: str, cell: Cell) -> str:
    """A cell's value of a dimension: its own, or its facility's agency or county id."""
    if dimension in DERIVED:
        return FACILITY_PLACES[cell[1]][dimension]
    return cell[DIMS.index(dimension)]


def in_place(query: Query, state: str, facility: str) -> bool:
    """The service's `agency` and `jurisdiction` filters: the jails the agency runs; a
    state's every jail, a county's those placed in it."""
    places = FACILITY_PLACES.get(facility, {})
    if query.agency is not None and places.get("agency") != query.agency:
        return False
    if query.jurisdiction is None:
        return True
    return STATE_IDS.get(query.jurisdiction) == state or (
        places.get("jurisdiction") == query.jurisdiction
    )


@dataclass(frozen=True)
class Query:
    group_by: tuple[str, ...]
    state: str | None = None
    facility: str | None = None
    start: str | None = None  # `from`: any ISO date; its month counts
    end: str | None = None  # `to`
    jurisdiction: str | None = None  # a jurisdiction's id
    agency: str | None = None  # an agency's id

    @property
    def rounded(self) -> bool:
        return bool(PERSONAL & set(self.group_by))

    def selects(self, group: Group) -> bool:
        state, facility, month, _ = group
        return (
            (self.state is None or state == self.state)
            and (self.facility is None or facility_matches(self.facility, facility))
            and (self.start is None or month >= self.start[:8] + "01")
            and (self.end is None or month <= self.end[:8] + "01")
            and in_place(self, state, facility)
        )

    def key(self, cell: Cell) -> Key:
        return tuple(value_of(d, cell) for d in self.group_by)

    def filters(self) -> dict[str, str]:
        values = {"state": self.state, "facility": self.facility}
        values |= {"from": self.start, "to": self.end}
        values |= {"jurisdiction": self.jurisdiction, "agency": self.agency}
        return {name: value for name, value in values.items() if value is not None}

    def graphql(self) -> dict[str, Any]:
        dims = ", ".join(d.upper() for d in self.group_by)
        document = (
            "query($f: DetainerFilter) { detainerStats(groupBy: [" + dims + "], filter: $f) {"
            " key { " + " ".join(self.group_by) + " }"
            " issued declined bookedIntoDetention pending declineRate rounded suppressed } }"
        )
        return {"query": document, "variables": {"f": self.filters()}}


def aggregate(query: Query, counts: Iterable[tuple[Cell, int]]) -> Table:
    """What `query` answers if it is the sum of `counts` (rows with nothing are left out).
    The same tests as `Query.selects` and `Query.key`, inlined: this runs over every cell
    for each of hundreds of queries."""
    derived = bool(set(query.group_by) & set(DERIVED))
    positions = [DIMS.index(d) for d in query.group_by if not derived]
    first = query.start[:8] + "01" if query.start else ""
    last = query.end[:8] + "01" if query.end else "9999"
    word = query.facility or ""
    placed = query.agency is not None or query.jurisdiction is not None
    named: dict[str, bool] = {}
    table: defaultdict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for cell, count in counts:
        if not count or not first <= cell[2] <= last:
            continue
        if query.state is not None and cell[0] != query.state:
            continue
        if word and not named.setdefault(cell[1], facility_matches(word, cell[1])):
            continue
        if placed and not in_place(query, cell[0], cell[1]):
            continue
        key = query.key(cell) if derived else tuple([cell[i] for i in positions])
        row = table[key]
        row["issued"] += count
        if measure := MEASURE_OF_OUTCOME.get(cell[3]):
            row[measure] += count
    return {key: row for key, row in table.items() if row["issued"] > 0}


class Client:
    """Asks one query of one API and reads the answer into a `Table`, checking on the way
    that every row says truthfully whether it is rounded and that its rate is computed from
    its published counts."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.requests: defaultdict[str, int] = defaultdict(int)
        # The last answer's withheld counts: (its margin's key, measure); the margin's key
        # is the row's key without its personal dimensions.
        self.withheld: set[tuple[Key, str]] = set()

    async def ask(self, query: Query, api: str = "json") -> Table:
        self.requests[api] += 1
        if api == "graphql":
            answer = await self.http.post("/graphql", json=query.graphql())
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert "errors" not in body, body["errors"]
            rows = [
                {**row["key"], **{GRAPHQL_MEASURES.get(k, k): v for k, v in row.items()}}
                for row in body["data"]["detainerStats"]
            ]
            rate = "declineRate"
        else:
            params = {"group_by": ",".join(query.group_by), **query.filters(), "format": api}
            answer = await self.http.get("/v1/stats/detainers", params=params)
            assert answer.status_code == 200, answer.text
            rows = _rows(api, answer.text)
            rate = "decline_rate"
        table: Table = {}
        self.withheld = set()
        exact = [i for i, d in enumerate(query.group_by) if d not in PERSONAL]
        for row in rows:
            assert row["rounded"] is query.rounded, row
            key = tuple("" if row[d] is None else str(row[d]) for d in query.group_by)
            counts = {m: int(row[m]) for m in MEASURES if row[m] not in (None, "")}
            assert row["suppressed"] is (len(counts) < len(MEASURES)), row
            self.withheld |= {(tuple(key[i] for i in exact), m) for m in MEASURES} - {
                (tuple(key[i] for i in exact), m) for m in counts
            }
            if len(counts) == len(MEASURES):
                decided = counts["issued"] - counts["pending"]
                expected = counts["declined"] / decided if decided > 0 else None
                assert row[rate] == expected, row
            if not counts:  # a margin withheld whole: one row, its personal keys null
                assert all(key[i] == "" for i, d in enumerate(query.group_by) if d in PERSONAL)
                continue
            assert key not in table, f"{key} listed twice"
            table[key] = counts
        return table


def _rows(api: str, body: str) -> list[dict[str, Any]]:
    if api == "json":
        rows: list[dict[str, Any]] = orjson.loads(body)["data"]
        return rows
    if api == "ndjson":
        return [orjson.loads(line) for line in body.splitlines()]
    parsed = []
    for row in csv.DictReader(io.StringIO(body)):
        rate = row["decline_rate"]
        parsed.append(
            {
                **row,
                "rounded": row["rounded"] == "true",
                "suppressed": row["suppressed"] == "true",
                "decline_rate": float(rate) if rate else None,
            }
        )
    return parsed


FINEST_PERSONAL = Query(DIMS)
FINEST_EXACT = Query(("state", "facility", "month", "outcome"))
BY_CRIMINALITY = Query((*DIMS[:4], "criminality"))
BY_CITIZENSHIP = Query((*DIMS[:4], "citizenship"))


@dataclass
class Knowledge:
    """Everything published about each group (facility × month × outcome): its exact
    total and its cells by criminality, by citizenship and by both (absent: 0)."""

    published: dict[Cell, int]  # every finest personal cell as published (absent: 0)
    totals: dict[Cell, int]  # exact group totals, as cells with empty personal fields
    by_criminality: dict[tuple[str, ...], int]  # group + criminality
    by_citizenship: dict[tuple[str, ...], int]  # group + citizenship

    @classmethod
    async def gather(cls, client: Client) -> Knowledge:
        published = await client.ask(FINEST_PERSONAL)
        totals = await client.ask(FINEST_EXACT)
        by_criminality = await client.ask(BY_CRIMINALITY)
        by_citizenship = await client.ask(BY_CITIZENSHIP)
        return cls(
            {key: row["issued"] for key, row in published.items()},  # type: ignore[misc]
            {(*key, "", ""): row["issued"] for key, row in totals.items()},  # type: ignore[misc]
            {key: row["issued"] for key, row in by_criminality.items()},
            {key: row["issued"] for key, row in by_citizenship.items()},
        )


@dataclass(frozen=True)
class Part:
    """What the knowledge says about one personal slice of one group."""

    group: Group
    variant: tuple[str, ...]  # the personal dimensions fixed
    values: Key  # their values
    low: int
    high: int
    true: int


VARIANTS = (("criminality",), ("citizenship",), ("criminality", "citizenship"))

Interval = list[int]  # [low, high], narrowed in place


def _interval(published: int, base: int) -> Interval:
    """What a published (rounded) count says about its truth: within base − 1 of it."""
    return [published - base + 1, published + base - 1] if published > 0 else [0, base - 1]


def _narrow(whole: Interval, parts: list[Interval]) -> bool:
    """whole = sum(parts): narrow each side from the others; True if anything changed."""
    changed = False
    low, high = sum(p[0] for p in parts), sum(p[1] for p in parts)
    if low > whole[0] or high < whole[1]:
        whole[0], whole[1] = max(whole[0], low), min(whole[1], high)
        changed = True
    for part in parts:
        rest_low, rest_high = low - part[0], high - part[1]
        new = [max(part[0], whole[0] - rest_high), min(part[1], whole[1] - rest_low)]
        if new != part:
            part[0], part[1] = new
            changed = True
    return changed


def parts(
    knowledge: Knowledge, truth: dict[Cell, int], categories: dict[str, list[str]], base: int
) -> Iterator[Part]:
    """Interval of every personal slice of every group (facility × month × outcome), from
    everything published about the group: its exact total, its cells by criminality, by
    citizenship and by both (each rounded on its own), over every category the attacker
    knows of (all of the real ones). The three breakdowns and the total are linked by
    sums (a criminality is the sum of its cells by both, …); the attacker narrows every
    interval by every sum until nothing changes (interval constraint propagation)."""
    groups = {cell[:4] for cell in knowledge.totals}
    assert groups == {cell[:4] for cell in truth}, "the exact totals cover every group"
    crims, countries = categories["criminality"], categories["citizenship"]
    for group in sorted(groups):
        total = knowledge.totals[(*group, "", "")]
        whole = [total, total]
        both = {
            (c, z): _interval(knowledge.published.get((*group, c, z), 0), base)
            for c in crims
            for z in countries
        }
        by_crim = {c: _interval(knowledge.by_criminality.get((*group, c), 0), base) for c in crims}
        by_country = {
            z: _interval(knowledge.by_citizenship.get((*group, z), 0), base) for z in countries
        }
        sums = [(whole, list(both.values())), (whole, list(by_crim.values()))]
        sums.append((whole, list(by_country.values())))
        sums += [(by_crim[c], [both[(c, z)] for z in countries]) for c in crims]
        sums += [(by_country[z], [both[(c, z)] for c in crims]) for z in countries]
        for _ in range(50):
            narrowed = [_narrow(w, p) for w, p in sums]  # every sum, every round
            if not any(narrowed):
                break
        true_both = {(c, z): truth.get((*group, c, z), 0) for c in crims for z in countries}
        slices: list[tuple[tuple[str, ...], Key, Interval, int]] = [
            (("criminality", "citizenship"), key, interval, true_both[key])
            for key, interval in both.items()
        ]
        slices += [
            (("criminality",), (c,), by_crim[c], sum(true_both[(c, z)] for z in countries))
            for c in crims
        ]
        slices += [
            (("citizenship",), (z,), by_country[z], sum(true_both[(c, z)] for c in crims))
            for z in countries
        ]
        for variant, values, (low, high), true in slices:
            yield Part(group, variant, values, low, high, true)
