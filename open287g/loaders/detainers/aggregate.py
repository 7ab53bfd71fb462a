"""Fold detainer rows into counts while reading: memory grows with the number of distinct
cells (month × facility × outcome × criminality × citizenship × charge), never with rows.

Identifiers and person-level fields are read only to detect exact duplicate rows (through a
hash kept in memory during the load) and are never stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from open287g.db.ingest.provenance import IssueRecord
from open287g.db.models.enums import DetainerOutcome, IssueAction
from open287g.loaders.detainers import categories
from open287g.loaders.normalize import clean_text, lookup_state
from open287g.text import name_key


class CellKey(NamedTuple):
    month: dt.date
    facility_code: str
    facility_name: str
    facility_city: str | None
    state_code: str
    outcome: DetainerOutcome
    criminality: str
    citizenship: str
    charge_category: str


@dataclass
class _IssueTally:
    count: int = 0
    first_row: int = 0


@dataclass
class Aggregated:
    cells: Counter[CellKey]
    rows_read: int
    issues: list[IssueRecord]
    # Rows by their `data_source` (lower case; the generator writes "synthetic"); empty
    # when the file has no such column. The loader labels or refuses a release by it.
    data_sources: Counter[str] = field(default_factory=Counter)
    # The first and last detainer date of the rows (None for an aggregate file's months).
    first_date: dt.date | None = None
    last_date: dt.date | None = None


@dataclass
class DetainerAggregator:
    columns: dict[str, int]
    cells: Counter[CellKey] = field(default_factory=Counter)
    _unplaced: Counter[tuple[tuple[str, str], tuple[Any, ...]]] = field(default_factory=Counter)
    _facility_states: defaultdict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _unplaced_rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _seen: set[int] = field(default_factory=set)
    _months: dict[object, dt.date | None] = field(default_factory=dict)
    _states: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    _tallies: dict[tuple[IssueAction, str | None, str, str | None], _IssueTally] = field(
        default_factory=dict
    )
    rows_read: int = 0
    data_sources: Counter[str] = field(default_factory=Counter)
    first_date: dt.date | None = None
    last_date: dt.date | None = None

    def note(
        self,
        action: IssueAction,
        row: int,
        column: str | None,
        reason: str,
        value: str | None = None,
        *,
        rows: int = 1,
    ) -> None:
        """Tally an issue by (action, column, reason, value); reports carry counts."""
        key = (action, column, reason, value)
        tally = self._tallies.setdefault(key, _IssueTally(first_row=row))
        tally.count += rows

    def add_all(self, rows: Iterable[tuple[int, Sequence[Any]]]) -> None:
        for number, values in rows:
            self.add(number, values)

    def add(self, number: int, values: Sequence[Any]) -> None:
        if not any(v not in (None, "") for v in values):
            return  # blank line
        self.rows_read += 1
        fingerprint = hash(tuple(values))
        if fingerprint in self._seen:
            self.note(IssueAction.REPAIRED, number, None, "exact duplicate row dropped")
            return
        self._seen.add(fingerprint)
        c = self.columns
        if "data_source" in c:
            self.data_sources[(clean_text(self._get(values, "data_source")) or "").lower()] += 1

        month = self._month(number, values[c["detainer_prepare_date"]])
        if month is None:
            return
        facility_raw = self._get(values, "detention_facility")
        facility = clean_text(facility_raw)
        if facility is None:
            self.note(IssueAction.REJECTED, number, "detention_facility", "blank facility")
            return
        code = clean_text(self._get(values, "detention_facility_code")) or ""
        city = clean_text(self._get(values, "facility_city"))
        lift_raw = self._get(values, "detainer_lift_reason")
        lift = clean_text(lift_raw)
        if isinstance(lift_raw, str) and lift is not None and lift_raw != lift:
            self.note(IssueAction.REPAIRED, number, "detainer_lift_reason", "padded text trimmed")
        outcome, known = categories.outcome(lift)
        if not known:
            self.note(
                IssueAction.REPAIRED, number, "detainer_lift_reason",
                "unknown lift reason counted as OTHER_LIFTED", lift,
            )  # fmt: skip
        rest = (
            outcome,
            categories.criminality(clean_text(self._get(values, "detainer_prepared_criminality"))),
            (clean_text(self._get(values, "citizenship_country")) or categories.UNKNOWN).upper(),
            categories.charge_category(
                clean_text(self._get(values, "most_serious_conviction_msc_charge"))
            ),
        )
        facility_id = (code, name_key(facility))
        state = self._state(number, self._get(values, "facility_state"))
        if state is None:
            # Placed at the end, if the facility's other rows name exactly one state.
            self._unplaced[(facility_id, (month, code, facility, city, *rest))] += 1
            self._unplaced_rows.setdefault(facility_id, []).append(number)
            return
        self._facility_states[facility_id].add(state)
        self.cells[CellKey(month, code, facility, city, state, *rest)] += 1

    def _get(self, values: Sequence[Any], column: str) -> Any:
        index = self.columns.get(column)
        return None if index is None or index >= len(values) else values[index]

    def _month(self, number: int, raw: object) -> dt.date | None:
        try:
            day = self._months[raw]
        except KeyError:
            day = self._months[raw] = _date_of(raw)
        except TypeError:  # unhashable cell value
            day = None
        if day is None:
            self.note(IssueAction.REJECTED, number, "detainer_prepare_date", "unreadable date")
            return None
        if isinstance(raw, str) and not (len(raw) >= 10 and raw[4] == "-"):
            self.note(IssueAction.REPAIRED, number, "detainer_prepare_date", "non-ISO date read")
        if self.first_date is None or day < self.first_date:
            self.first_date = day
        if self.last_date is None or day > self.last_date:
            self.last_date = day
        return day.replace(day=1)

    def _state(self, number: int, raw: object) -> str | None:
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        if text not in self._states:
            state, guessed = lookup_state(clean_text(text))
            self._states[text] = (state.usps if state else None, guessed or text != text.strip())
        code, repaired = self._states[text]
        if code is not None and repaired:
            self.note(IssueAction.REPAIRED, number, "facility_state", "padded or misspelled state")
        return code

    def finish(self) -> Aggregated:
        for (facility_id, rest), count in self._unplaced.items():
            states = self._facility_states.get(facility_id, set())
            rows = self._unplaced_rows[facility_id]
            if len(states) == 1:
                (state,) = states
                month, code, facility, city, *categories_ = rest
                self.cells[CellKey(month, code, facility, city, state, *categories_)] += count
                self.note(
                    IssueAction.REPAIRED, rows[0], "facility_state",
                    "blank state taken from the facility's other rows", rows=count,
                )  # fmt: skip
            else:
                self.note(
                    IssueAction.REJECTED, rows[0], "facility_state",
                    "blank or unknown state, and the facility does not tell", rows=count,
                )  # fmt: skip
        issues = [
            IssueRecord(tally.first_row, column, action, reason, value, rows=tally.count)
            for (action, column, reason, value), tally in sorted(
                self._tallies.items(), key=lambda item: item[1].first_row
            )
        ]
        return Aggregated(
            self.cells, self.rows_read, issues, self.data_sources, self.first_date, self.last_date
        )


def _date_of(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = clean_text(raw)
    if text is None:
        return None
    for parse in (_iso, _us):
        found = parse(text)
        if found is not None and dt.date(1990, 1, 1) <= found <= dt.date(2100, 1, 1):
            return found
    return None


def _iso(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _us(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.split()[0], "%m/%d/%Y").date()
    except (ValueError, IndexError):
        return None
