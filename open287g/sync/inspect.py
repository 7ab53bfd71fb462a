"""What a downloaded list is before anything of it is loaded: its kind and publication
date (and where the date came from), whether it is an xlsx at all, its header, and how
many agreements it lists. A file that fails any of this is quarantined, never loaded."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from open287g.db.ingest.sync import Baseline, Identity
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.filenames import parse_file_name, published_at
from open287g.loaders.ice287g.parse import COLUMN_ALIASES, HEADER_SEARCH_ROWS, parse_workbook
from open287g.loaders.normalize import clean_text
from open287g.loaders.xlsx import open_workbook
from open287g.sync.fetch import Fetched
from open287g.sync.links import ListLink, file_name

ZIP_SIGNATURE = b"PK\x03\x04"  # every xlsx is a zip file


@dataclass
class Candidate:
    """A new file (sha256 never seen) and what the sync made of it."""

    link: ListLink
    fetched: Fetched
    name: str
    sha256: str
    published_on: dt.date | None = None
    half: str | None = None
    date_source: str | None = None  # file-name or last-modified
    columns: list[str] | None = None
    agreements: frozenset[Identity] = frozenset()
    problem: str | None = None  # why it is quarantined

    @property
    def kind(self) -> SnapshotKind:
        return SnapshotKind(self.link.kind)

    @property
    def published_at(self) -> dt.datetime:
        return published_at(self.published_on or dt.date.min, self.half)


def inspect(link: ListLink, fetched: Fetched, max_unzipped_bytes: int) -> Candidate:
    """CPU work (openpyxl): run it in a thread."""
    name = file_name(fetched.url) or file_name(link.url)
    found = Candidate(link, fetched, name, hashlib.sha256(fetched.body).hexdigest())
    named = parse_file_name(name)
    if named.published_on is not None:
        found.published_on, found.half, found.date_source = (
            named.published_on,
            named.half,
            "file-name",
        )
    elif (modified := _http_date(fetched.last_modified)) is not None:
        found.published_on, found.date_source = modified.date(), "last-modified"
    else:
        found.problem = "no publication date: none in the file name and no Last-Modified"
        return found
    found.problem = _not_a_workbook(fetched)
    if found.problem is not None:
        return found
    try:
        found.columns = header_columns(name, fetched.body, max_unzipped_bytes)
        parsed = parse_workbook(
            name,
            fetched.body,
            found.kind,
            published_on=found.published_on,
            max_unzipped_bytes=max_unzipped_bytes,
        )
    except LoadError as exc:
        found.problem = exc.message
        return found
    except Exception as exc:  # a damaged zip or sheet surfaces in many types
        found.problem = f"cannot be read as a spreadsheet ({type(exc).__name__}: {exc})"
        return found
    found.agreements = frozenset((r.state_code, r.agency_key, r.model.value) for r in parsed.rows)
    if not found.agreements:
        found.problem = "the sheet has no readable data rows"
    return found


def compare(
    found: Candidate,
    base: Baseline | None,
    elsewhere: frozenset[Identity],
    max_drop_share: float,
) -> str | None:
    """Why this list must not replace the newest one of its kind, if it must not.

    A drop counts the agreements that would leave both lists: ones that move from the
    pending to the participating list (`elsewhere`: the other kind's newest list) are
    not lost. ICE's pending list of 2025-07-09 had 20 agreements after 51 two days before,
    while the participating list grew by 30."""
    if base is None:
        return None
    if base.columns:
        missing = [c for c in base.columns if c not in (found.columns or [])]
        if missing:
            new = [c for c in (found.columns or []) if c not in base.columns]
            return (
                f"columns changed: {', '.join(missing)} missing"
                + (f" (new: {', '.join(new)})" if new else "")
                + "; load it by hand (`open287g load ice-287g`) once checked"
            )
    dropped = base.agreements - found.agreements - elsewhere
    if base.agreements and len(dropped) > len(base.agreements) * max_drop_share:
        return (
            f"would drop {len(dropped)} of {len(base.agreements)} "
            f"{found.kind.value.lower()} agreements from both lists at once (more than "
            f"{max_drop_share:.0%}; OPEN287G_SYNC_MAX_DROP_SHARE)"
        )
    return None


def header_columns(label: str, data: bytes, max_unzipped_bytes: int) -> list[str]:
    """The names in the header row (the first naming a state and an agency column)."""
    states = set(COLUMN_ALIASES["state"])
    agencies = set(COLUMN_ALIASES["agency"])
    workbook = open_workbook(label, data, max_unzipped_bytes=max_unzipped_bytes, streaming=True)
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True):
                names = [n for n in ((clean_text(v) or "").upper() for v in row) if n]
                if states & set(names) and agencies & set(names):
                    return names
    finally:
        workbook.close()
    return []


def _not_a_workbook(fetched: Fetched) -> str | None:
    if fetched.body.startswith(ZIP_SIGNATURE):
        return None
    head = fetched.body[:512].lstrip().lower()
    if "html" in fetched.content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<")):
        return (
            f"an HTML page sent with HTTP 200 (Content-Type {fetched.content_type or 'none'}),"
            " not a spreadsheet"
        )
    return "not an xlsx file (no zip signature)"


def _http_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None
