"""A cross-margin interval-propagation attacker, for tests/db/test_disclosure_margins.py.

The attacker of tests/support/attacker.py narrows slices within one facility × month × outcome.
This one links *different margins* (the outside review of the disclosure control): a
state × month against its jails' months, a single month against the two-month ranges
holding it, for every outcome, the way the reviewer pinned CONVICTED pending detainers of
two Oklahoma jails from four public requests.

Its unknowns (atoms) are the detainers of one facility × month × outcome × criminality
(or × citizenship: one personal dimension at a time, `Propagation.dimension`),
each in [0, its group's exact total] (the exact facility × month × outcome totals are
public). Every published rounded count is a linear constraint: the sum of the atoms it
holds lies within base − 1 of it (a listed 0, i.e. a row or measure not listed in a
published margin, in [0, base − 1]); a withheld count says nothing. The criminalities of a
group sum to its exact total. The attacker narrows every atom by every constraint until
nothing changes (interval constraint propagation) and counts the targets (atoms and
published cells) it has pinned to a single value from 1 to base − 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.support.attacker import MEASURE_OF_OUTCOME, Key, Query, Table

Group = tuple[str, str, str, str]  # state, facility, month, outcome
Atom = tuple[str, str, str, str, str]  # group + criminality


def outcomes_of(measure: str) -> set[str] | None:
    """The outcomes a measure counts (None: every outcome, `issued`)."""
    if measure == "issued":
        return None
    return {o for o, m in MEASURE_OF_OUTCOME.items() if m == measure}


@dataclass
class Propagation:
    """Atoms' intervals and the sum constraints linking them."""

    base: int
    totals: dict[Group, int]  # exact, published
    dimension: str = "criminality"  # the personal dimension of the atoms and queries
    index: dict[Atom, int] = field(default_factory=dict)
    low: list[int] = field(default_factory=list)
    high: list[int] = field(default_factory=list)
    constraints: list[tuple[list[int], list[int]]] = field(default_factory=list)  # atoms, [L, H]
    targets: list[tuple[str, int]] = field(default_factory=list)  # what, its constraint

    def atoms(self, criminalities: Iterable[str]) -> None:
        """Every atom in [0, its group's total]; the criminalities of a group sum to it."""
        crims = sorted(criminalities)
        for group, total in sorted(self.totals.items()):
            members = []
            for crim in crims:
                self.index[(*group, crim)] = len(self.low)
                members.append(len(self.low))
                self.low.append(0)
                self.high.append(total)
            self.constraints.append((members, [total, total]))

    def observe(self, query: Query, table: Table, withheld: set[tuple[Key, str]]) -> None:
        """Each margin × category × measure of a `group_by=…,<dimension>` answer as a
        constraint (`withheld`: the margins × measures published as withheld)."""
        position = query.group_by.index(self.dimension)
        crims = sorted({atom[4] for atom in self.index})
        cells: defaultdict[tuple[Key, str], list[int]] = defaultdict(list)
        for group in self.totals:
            if not query.selects(group):
                continue
            key = query.key((*group, "", ""))
            margin = key[:position] + key[position + 1 :]
            for measure in ("issued", "declined", "booked_into_detention", "pending"):
                outcomes = outcomes_of(measure)
                if outcomes is not None and group[3] not in outcomes:
                    continue
                if (margin, measure) in withheld:
                    continue
                for crim in crims:
                    cells[((*margin, crim), measure)].append(self.index[(*group, crim)])
        for (margin_and_crim, measure), members in cells.items():
            margin, crim = margin_and_crim[:-1], margin_and_crim[-1]
            key = (*margin[:position], crim, *margin[position:])
            published = table.get(key, {}).get(measure, 0)
            bound = self.base - 1
            window = [max(published - bound, 0), published + bound]
            self.targets.append((f"{query.filters()} {key} {measure}", len(self.constraints)))
            self.constraints.append((members, window))

    def run(self, rounds: int = 100) -> int:
        """Narrow until nothing changes; the number of rounds it took."""
        low, high = self.low, self.high
        for round_ in range(1, rounds + 1):
            changed = False
            for members, window in self.constraints:
                sum_low = sum(low[i] for i in members)
                sum_high = sum(high[i] for i in members)
                if sum_low > window[0] or sum_high < window[1]:
                    window[0], window[1] = max(window[0], sum_low), min(window[1], sum_high)
                for i in members:
                    new_low = max(low[i], window[0] - (sum_high - high[i]))
                    new_high = min(high[i], window[1] - (sum_low - low[i]))
                    if new_low != low[i] or new_high != high[i]:
                        sum_low += new_low - low[i]
                        sum_high += new_high - high[i]
                        low[i], high[i] = new_low, new_high
                        changed = True
            if not changed:
                return round_
        return rounds

    def pinned(self, truth: dict[Atom, int]) -> tuple[list[str], int]:
        """The targets (atoms and published cells) pinned to a value from 1 to base − 1,
        checking on the way that every interval holds its truth (the attack is sound)."""
        found: set[str] = set()
        true_of = [0] * len(self.low)
        for atom, i in self.index.items():
            true = true_of[i] = truth.get(atom, 0)
            assert self.low[i] <= true <= self.high[i], (atom, self.low[i], self.high[i], true)
            if 0 < true < self.base and self.low[i] == self.high[i]:
                found.add(f"atom {atom}")
        for what, constraint in self.targets:
            members, window = self.constraints[constraint]
            true = sum(true_of[i] for i in members)
            assert window[0] <= true <= window[1], (what, window, true)
            if 0 < true < self.base and window[0] == window[1]:
                found.add(f"cell {what}")
        return sorted(found), len(self.targets)
