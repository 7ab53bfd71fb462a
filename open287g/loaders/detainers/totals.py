"""The simple aggregate CSV, for sources that publish only totals (README "Detainers").

Columns: `period` (YYYY-MM or a date in the month), `state`, `facility`, `issued`,
`declined`, and optionally `facility_code`, `city`, `booked_into_detention`, `pending`.
Each row becomes outcome cells; detainers not declined, booked or pending count as
OTHER_LIFTED. Personal attributes are unknown in such files.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from open287g.db.models.enums import DetainerOutcome, IssueAction
from open287g.loaders.detainers.aggregate import Aggregated, CellKey, DetainerAggregator
from open287g.loaders.detainers.categories import UNKNOWN
from open287g.loaders.detainers.readers import Table
from open287g.loaders.normalize import clean_text, lookup_state


def _count(value: Any) -> int | None:
    text = clean_text(value)
    if text is None:
        return 0
    try:
        number = int(float(text.replace(",", "")))
    except ValueError:
        return None
    return number if number >= 0 else None


def _period(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = clean_text(value) or ""
    for fmt in ("%Y-%m", "%Y-%m-%d", "%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().replace(day=1)
        except ValueError:
            continue
    return None


def aggregate_totals(table: Table) -> Aggregated:
    tally = DetainerAggregator(table.columns)  # used for its issue tallies only
    c = table.columns

    def get(values: Any, column: str) -> Any:
        index = c.get(column)
        return None if index is None or index >= len(values) else values[index]

    for number, values in table.rows:
        if not any(v not in (None, "") for v in values):
            continue
        tally.rows_read += 1
        month = _period(get(values, "period"))
        state, _ = lookup_state(clean_text(get(values, "state")))
        facility = clean_text(get(values, "facility"))
        counts = {
            name: _count(get(values, name))
            for name in ("issued", "declined", "booked_into_detention", "pending")
        }
        problem = (
            "unreadable period" if month is None
            else "unknown state" if state is None
            else "blank facility" if facility is None
            else "counts must be whole numbers ≥ 0" if None in counts.values()
            else None
        )  # fmt: skip
        issued, declined, booked, pending = (counts[k] or 0 for k in counts)
        if problem is None and declined + booked + pending > issued:
            problem = "declined + booked + pending exceeds issued"
        if problem is not None:
            tally.note(IssueAction.REJECTED, number, None, problem)
            continue
        assert month is not None
        assert state is not None
        assert facility is not None
        code = clean_text(get(values, "facility_code")) or ""
        city = clean_text(get(values, "city"))
        for outcome, amount in (
            (DetainerOutcome.DECLINED_BY_AGENCY, declined),
            (DetainerOutcome.BOOKED_INTO_DETENTION, booked),
            (DetainerOutcome.PENDING, pending),
            (DetainerOutcome.OTHER_LIFTED, issued - declined - booked - pending),
        ):
            if amount:
                key = CellKey(month, code, facility, city, state.usps, outcome,
                              UNKNOWN, UNKNOWN, UNKNOWN)  # fmt: skip
                tally.cells[key] += amount
    return tally.finish()
