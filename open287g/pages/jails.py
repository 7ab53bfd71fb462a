"""The detainers of a page's jails (issue #22): an agency's page shows those of the jails it
runs, a county's or place's page those in it, by facility, beside the agreements, officials
and policy. Counts by facility carry no personal attribute, so they are exact (bound 0);
the table states the bound all the same, as every answer with perturbed values does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries import detainers, reference
from open287g.db.queries.detainers import DetainerDimension, DetainerFilter, DetainerStatRow
from open287g.db.queries.reference import DatasetRecord


async def detainer_releases(conn: AsyncConnection) -> list[DatasetRecord]:
    """The loaded detainer releases: a page names the file (and its sha256) its counts
    come from and the period it covers, never just "detainers"."""
    return [f for f in await reference.datasets(conn) if f.dataset == "detainers"]


def partial_months(releases: list[DatasetRecord]) -> dict[dt.date, str]:
    """Months a release starts or ends inside ({month: "through 14 Oct 2025"}): shown as a
    whole month, its count would read as a drop that is not real."""
    found: dict[dt.date, str] = {}
    for release in releases:
        found.update(release.partial_months)
    return found


@dataclass(frozen=True)
class Jails:
    rows: list[DetainerStatRow]  # by facility, most detainers first
    names: dict[str, str]  # facility code → name
    loaded: bool  # whether any detainer release is loaded at all
    releases: list[DatasetRecord] = field(default_factory=list)  # the files behind them

    @property
    def bound(self) -> int:
        return max((row.bound for row in self.rows), default=0)


async def jails(conn: AsyncConnection, filters: DetainerFilter, state: str | None) -> Jails:
    rows = await detainers.detainer_stats(  # by facility only: exact, no rounding base
        conn, [DetainerDimension.FACILITY], filters, min_cell=1
    )
    return Jails(
        rows=sorted(rows, key=lambda row: -(row.issued or 0)),
        names=await detainers.facility_names(conn, state or ""),
        loaded=bool(rows) or await detainers.detainers_loaded(conn),
        releases=await detainer_releases(conn),
    )
