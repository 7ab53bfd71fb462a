"""Load one detainer release: hash it, aggregate it while streaming, write the cells in one
transaction. A release already loaded (same sha256) is skipped before any work."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.detainers import FacilityRow, ReleaseWrite, StatRow, write_release
from open287g.db.ingest.provenance import (
    IssueRecord,
    LoadCounts,
    SourceFacts,
    begin_load,
    count_rejected,
    file_transaction,
    find_load_of,
    finish_load,
    lock_dataset,
)
from open287g.db.models.enums import IssueAction
from open287g.loaders.detainers.aggregate import Aggregated, CellKey, DetainerAggregator
from open287g.loaders.detainers.readers import open_table
from open287g.loaders.detainers.totals import aggregate_totals
from open287g.loaders.errors import LoadError
from open287g.loaders.sources import fetch_to_file, is_url
from open287g.text import name_key

DATASET = "detainers"
SYNTHETIC_SOURCE = "synthetic"  # a row's data_source when it is invented test data
_COUNTY_IN_FACILITY = re.compile(r"^(?P<county>.+?)\s+(COUNTY|PARISH)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DetainerLoad:
    load_run_id: int | None  # None: these exact bytes were loaded before; nothing written
    counts: LoadCounts
    layout: str | None = None


@dataclass(frozen=True)
class FileFacts:
    size: int
    sha256: str


def file_facts(label: str, path: Path, max_bytes: int) -> FileFacts:
    """Size (checked against the limit first) and sha256, streamed."""
    if not path.is_file():
        raise LoadError(label, "no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(label, f"file is {size:,} bytes; the limit is {max_bytes:,}")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return FileFacts(size, digest.hexdigest())


def aggregate_file(label: str, path: Path, settings: Settings) -> tuple[str, Aggregated]:
    with open_table(label, path, max_unzipped_bytes=settings.max_unzipped_bytes) as table:
        if table.layout == "aggregate":
            return table.layout, aggregate_totals(table)
        aggregator = DetainerAggregator(table.columns)
        aggregator.add_all(table.rows)
        return table.layout, aggregator.finish()


def county_key(facility: str) -> str | None:
    found = _COUNTY_IN_FACILITY.match(facility)
    return name_key(found["county"]) if found else None


def stat_rows(cells: Counter[CellKey]) -> list[StatRow]:
    facilities: dict[tuple[str, str, str | None, str], FacilityRow] = {}
    rows = []
    for key, detainers in cells.items():
        identity = (key.facility_code, key.facility_name, key.facility_city, key.state_code)
        facility = facilities.get(identity)
        if facility is None:
            facility = facilities[identity] = FacilityRow(
                key.facility_code, key.facility_name, name_key(key.facility_name),
                key.facility_city, key.state_code, county_key(key.facility_name),
            )  # fmt: skip
        rows.append(
            StatRow(
                key.month,
                facility,
                key.outcome.value,
                key.criminality,
                key.citizenship,
                key.charge_category,
                detainers,
            )
        )
    return rows


def coverage(layout: str, aggregated: Aggregated) -> tuple[dt.date | None, dt.date | None]:
    """The first and last date a release covers: its rows' detainer dates; an aggregate
    file's are months, so its whole first and last months (their partiality unknown)."""
    if layout != "aggregate":
        return aggregated.first_date, aggregated.last_date
    months = {key.month for key in aggregated.cells}
    if not months:
        return None, None
    after = (max(months).replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return min(months), after - dt.timedelta(days=1)


def synthetic_label(label: str, aggregated: Aggregated, *, is_synthetic: bool) -> bool:
    """Whether the release is synthetic: `--synthetic`, or every row's `data_source` says
    so (then a load note records why). A release mixing synthetic and other rows is
    refused: one label per release cannot say which of its counts are real."""
    synthetic = aggregated.data_sources.get(SYNTHETIC_SOURCE, 0)
    if synthetic == 0:
        return is_synthetic
    total = sum(aggregated.data_sources.values())
    if synthetic < total:
        raise LoadError(
            label,
            f"{synthetic:,} of {total:,} rows say data_source={SYNTHETIC_SOURCE}: a release "
            "mixing synthetic and real rows is refused (load them as separate files)",
        )
    if not is_synthetic:
        aggregated.issues.append(
            IssueRecord(
                None,
                "data_source",
                IssueAction.REPAIRED,
                f"every row says data_source={SYNTHETIC_SOURCE}: the release is labelled "
                "synthetic (as --synthetic would)",
                SYNTHETIC_SOURCE,
                rows=0,
            )
        )
    return True


async def load_detainer_path(
    target: AsyncEngine | AsyncConnection,
    path: Path,
    settings: Settings,
    *,
    url: str | None = None,
    fill_gaps: bool = False,
    is_synthetic: bool = False,
) -> DetainerLoad:
    label = url or str(path)
    started = dt.datetime.now(dt.UTC)
    facts = await asyncio.to_thread(file_facts, label, path, settings.max_detainer_bytes)
    sha256 = facts.sha256
    async with file_transaction(target) as conn:
        if await find_load_of(conn, DATASET, sha256) is not None:
            return DetainerLoad(None, LoadCounts())
    layout, aggregated = await asyncio.to_thread(aggregate_file, label, path, settings)
    if aggregated.rows_read == 0:
        raise LoadError(label, "the file has no data rows")
    rejected = count_rejected(aggregated.issues)
    share = rejected / aggregated.rows_read
    if share > settings.detainer_max_rejected_share:
        reasons = ", ".join(
            f"{issue.reason} ({issue.rows})" for issue in aggregated.issues
            if issue.action.value == "REJECTED"
        )  # fmt: skip
        raise LoadError(
            label,
            f"{rejected} of {aggregated.rows_read} rows rejected ({share:.1%}), over the "
            f"limit of {settings.detainer_max_rejected_share:.1%}: {reasons}",
        )
    is_synthetic = synthetic_label(label, aggregated, is_synthetic=is_synthetic)
    async with file_transaction(target) as conn:
        await lock_dataset(conn, DATASET)
        if await find_load_of(conn, DATASET, sha256) is not None:
            return DetainerLoad(None, LoadCounts())
        source = SourceFacts(
            name=Path(url).name if url else path.name,
            url=url,  # a local file publishes its name, never its path
            sha256=sha256,
            size=facts.size,
            fetched_at=dt.datetime.now(dt.UTC),
        )
        start = await begin_load(
            conn, dataset=DATASET, source=source, started_at=started, is_synthetic=is_synthetic
        )
        first, last = coverage(layout, aggregated)
        release = ReleaseWrite(
            start.source_file_id,
            start.load_run_id,
            fill_gaps,
            coverage_start=first,
            coverage_end=last,
        )
        counts = await write_release(conn, release, stat_rows(aggregated.cells))
        counts.rows_read = aggregated.rows_read
        await finish_load(conn, start.load_run_id, counts, aggregated.issues)
        return DetainerLoad(start.load_run_id, counts, layout)


async def load_detainer_source(
    target: AsyncEngine | AsyncConnection,
    source: str,
    settings: Settings,
    *,
    fill_gaps: bool = False,
    is_synthetic: bool = False,
) -> DetainerLoad:
    """A path, or a URL downloaded to a temporary file first (releases are large)."""
    if not is_url(source):
        return await load_detainer_path(
            target, Path(source), settings, fill_gaps=fill_gaps, is_synthetic=is_synthetic
        )
    with tempfile.TemporaryDirectory(prefix="open287g-") as folder:
        path = Path(folder) / "release"
        await fetch_to_file(
            source, path, max_bytes=settings.max_detainer_bytes, http_timeout=settings.http_timeout
        )
        return await load_detainer_path(
            target, path, settings, url=source, fill_gaps=fill_gaps, is_synthetic=is_synthetic
        )
