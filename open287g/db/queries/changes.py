"""The change sequence that sync clients follow, and the data version it defines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class ChangeRecord:
    seq: int
    entity: str
    entity_id: int
    op: str
    changed_at: dt.datetime
    key: int | str  # what the collection knows the record by (a program model's code)


@dataclass(frozen=True)
class DataVersion:
    """`version` grows with every change a load makes; `modified` is when that happened."""

    version: int
    modified: dt.datetime | None
    oldest_retained: int  # seq of the oldest change still kept (0 when none)
    notice: str | None = None  # set when demo or synthetic data is loaded


DEMO_NOTICE = "DEMO DATA: this service holds invented demo records; they are not real."
SYNTHETIC_NOTICE = "SYNTHETIC DATA: this service holds synthetic test records; not real."


# The data version, as one statement's row (a compiled statement reads it in its own
# snapshot, beside its data): see `version_of`.
DATA_VERSION_SQL = (
    "SELECT coalesce(max(seq), 0), max(changed_at), coalesce(min(seq), 0),"
    " (SELECT bool_or(is_demo) FROM source_files),"
    " (SELECT bool_or(is_synthetic) FROM source_files)"
    " FROM changes"
)
DATA_VERSION_COLUMNS = 5
# `notice` as one SQL expression; the texts are constants of this module.
NOTICE_SQL = (
    "(SELECT CASE WHEN bool_or(is_demo) THEN "
    + "'"
    + DEMO_NOTICE.replace("'", "''")
    + "'"
    + " WHEN bool_or(is_synthetic) THEN "
    + "'"
    + SYNTHETIC_NOTICE.replace("'", "''")
    + "'"
    + " END FROM source_files)"
)


def version_of(row: Sequence[Any]) -> DataVersion:
    """The DataVersion of a `DATA_VERSION_SQL` row."""
    notice = DEMO_NOTICE if row[3] else SYNTHETIC_NOTICE if row[4] else None
    return DataVersion(int(row[0]), row[1], int(row[2]), notice)


async def data_version(conn: AsyncConnection) -> DataVersion:
    return version_of((await conn.execute(text(DATA_VERSION_SQL))).one())


async def changes_since(
    conn: AsyncConnection, since: int, limit: int, entities: Sequence[str] | None = None
) -> list[ChangeRecord]:
    """Changes after `since`, in seq order; only these `entities` when given (the feed
    leaves out those it has no record for)."""
    rows = await conn.execute(
        text(
            "SELECT c.seq, c.entity, c.entity_id, CAST(c.op AS text), c.changed_at,"
            " CAST(m.code AS text) FROM changes c"
            " LEFT JOIN program_models m"
            "  ON c.entity = 'program_model' AND m.sort_order = c.entity_id"
            " WHERE c.seq > :since"
            " AND (CAST(:entities AS text[]) IS NULL OR c.entity = ANY(CAST(:entities AS text[])))"
            " ORDER BY c.seq LIMIT :limit"
        ),
        {"since": since, "limit": limit, "entities": None if entities is None else list(entities)},
    )
    # Program models are keyed by their code; the sequence stores their sort order.
    return [
        ChangeRecord(seq, entity, entity_id, op, changed_at, code or entity_id)
        for seq, entity, entity_id, op, changed_at, code in rows
    ]


@dataclass(frozen=True)
class ChangelogEntry:
    """A change worth telling people about, with what names the record (while it exists)."""

    seq: int
    entity: str
    entity_id: int
    op: str
    changed_at: dt.datetime
    summary: str
    agency: str | None = None  # agreements
    state: str | None = None  # agreements, policies
    model: str | None = None  # agreements: the program model's name
    status: str | None = None  # agreements, policies, documents
    jurisdiction: str | None = None  # policies
    file: str | None = None  # datasets, documents
    dataset: str | None = None  # datasets
    agency_id: int | None = None  # agreements, and documents that belong to one


async def changelog(
    conn: AsyncConnection, limit: int, entities: Sequence[str], before: int | None = None
) -> list[ChangelogEntry]:
    """The latest `limit` changes to these entities that carry a summary (documents: every
    change, told by their read status), older than `before` when given, newest first."""
    rows = await conn.execute(
        text(
            "SELECT c.seq, c.entity, c.entity_id, CAST(c.op AS text), c.changed_at,"
            " coalesce(c.summary, CASE WHEN CAST(c.op AS text) = 'DELETE' THEN 'removed'"
            "  ELSE 'read (' || coalesce(d.status, 'unknown') || ')' END),"
            " a.name, coalesce(g.state_code, j.state_code), m.name,"
            " CAST(coalesce(CAST(g.status AS text), CAST(p.status AS text), d.status) AS text),"
            " j.name, coalesce(f.name, d.file_name), f.dataset, coalesce(g.agency_id, da.agency_id)"
            " FROM (SELECT * FROM changes WHERE entity = ANY(:entities)"
            "       AND (summary IS NOT NULL OR entity = 'document')"
            "       AND seq < coalesce(CAST(:before AS bigint), 9223372036854775807)"
            "       ORDER BY seq DESC LIMIT :limit) c"
            " LEFT JOIN agreements g ON c.entity = 'agreement' AND g.id = c.entity_id"
            " LEFT JOIN agencies a ON a.id = g.agency_id"
            " LEFT JOIN program_models m ON m.code = g.model_code"
            " LEFT JOIN policies p ON c.entity = 'policy' AND p.id = c.entity_id"
            " LEFT JOIN jurisdictions j ON j.id = p.jurisdiction_id"
            " LEFT JOIN source_files f ON c.entity = 'dataset' AND f.id = c.entity_id"
            " LEFT JOIN documents d ON c.entity = 'document' AND d.id = c.entity_id"
            " LEFT JOIN LATERAL (SELECT g2.agency_id FROM document_agreements l"
            "   JOIN agreements g2 ON g2.id = l.agreement_id WHERE l.document_id = d.id"
            "   ORDER BY l.is_current DESC, l.agreement_id LIMIT 1) da ON true"
            " ORDER BY c.seq DESC"
        ),
        {"limit": limit, "entities": list(entities), "before": before},
    )
    return [ChangelogEntry(*row) for row in rows]
