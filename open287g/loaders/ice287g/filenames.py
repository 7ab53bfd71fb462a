"""What a file name says about a snapshot: participating or pending, and when published.

ICE names files `participatingAgencies07182025pm.xlsx` (MMDDYYYY, am/pm, sometimes a `_b`
suffix for a second edition); archives prefix the time they fetched it
(`20250519T024922_…`). ISO dates (`participating-2025-07-18.xlsx`) are accepted too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from open287g.db.models.enums import SnapshotKind

_ICE_NAME = re.compile(
    r"(?P<kind>participating|pending)(?:agencies)?[_\- ]?"
    r"(?:(?P<mm>\d{2})(?P<dd>\d{2})(?P<yyyy>\d{4})|(?P<iso>\d{4}-\d{2}-\d{2}))"
    r"[_\- ]?(?P<half>am|pm)?",
    re.IGNORECASE,
)
_ARCHIVED_AT = re.compile(r"^(?P<stamp>\d{8}T\d{6})_")
_KIND_ONLY = re.compile(r"(participating|pending)", re.IGNORECASE)


@dataclass(frozen=True)
class SnapshotName:
    kind: SnapshotKind | None
    published_on: dt.date | None
    half: str | None
    archived_at: dt.datetime | None


def parse_file_name(name: str) -> SnapshotName:
    archived = _ARCHIVED_AT.match(name)
    archived_at = (
        dt.datetime.strptime(archived["stamp"], "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
        if archived
        else None
    )
    match = _ICE_NAME.search(name)
    if not match:
        kind_only = _KIND_ONLY.search(name)
        kind = SnapshotKind(kind_only[1].upper()) if kind_only else None
        return SnapshotName(kind, None, None, archived_at)
    try:
        if match["iso"]:
            published = dt.date.fromisoformat(match["iso"])
        else:
            published = dt.date(int(match["yyyy"]), int(match["mm"]), int(match["dd"]))
    except ValueError:
        published = None
    half = match["half"].lower() if match["half"] else None
    return SnapshotName(SnapshotKind(match["kind"].upper()), published, half, archived_at)


def published_at(published_on: dt.date, half: str | None) -> dt.datetime:
    """A sortable instant for a publication: ICE's `pm` edition comes after its `am` one."""
    hour = 12 if half == "pm" else 0
    return dt.datetime.combine(published_on, dt.time(hour), tzinfo=dt.UTC)
