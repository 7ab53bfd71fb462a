"""Write MOA documents: the document once per sha256, its pages, its extracted fields,
its links to agreements (by file name), and the officials its signatures name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.provenance import record_changes
from open287g.db.models.enums import ChangeOp
from open287g.text import name_key, valid_unicode

DATASET = "moas"


@dataclass(frozen=True)
class PageRow:
    number: int
    method: str
    engine: str | None
    confidence: float | None
    reason: str | None
    text: str


@dataclass(frozen=True)
class FieldRow:
    field: str
    ordinal: int
    value: str | None
    page: int | None
    method: str | None
    confidence: float | None
    reason: str | None
    raw: str | None
    candidate: bool = False  # below the publication threshold: shown, never a fact
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class DocumentRow:
    sha256: str
    size: int
    page_count: int | None
    file_name: str
    url: str | None
    fetched_at: dt.datetime
    status: str
    reason: str | None
    extractor_version: int
    text_method: str
    signed_on: dt.date | None
    program_model: str | None
    extraction: dict[str, Any]
    pages: Sequence[PageRow]
    fields: Sequence[FieldRow]


def file_name_of(url: str) -> str:
    """The last path segment, URL-decoded: how an agreement's moaUrl names its file."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class KnownDocument:
    """What a stored document's reading came to: enough to decide to read it again."""

    id: int
    status: str
    reason: str | None
    extractor_version: int | None
    source_file_id: int


async def known_document(conn: AsyncConnection, sha256: str) -> KnownDocument | None:
    row = (
        await conn.execute(
            text(
                "SELECT id, status, reason, extractor_version, source_file_id FROM documents"
                " WHERE sha256 = :sha"
            ),
            {"sha": sha256},
        )
    ).one_or_none()
    return None if row is None else KnownDocument(*row)


async def documents_published_at_urls(conn: AsyncConnection) -> list[tuple[str, KnownDocument]]:
    """Every stored document with the URL ICE published it at, and what its reading came to:
    the sync reads again those whose reading may come out better now (`reread_reason`)."""
    rows = await conn.execute(
        text(
            "SELECT url, id, status, reason, extractor_version, source_file_id FROM documents"
            " WHERE url IS NOT NULL ORDER BY url"
        )
    )
    return [(row[0], KnownDocument(*row[1:])) for row in rows]


async def insert_document(
    conn: AsyncConnection, row: DocumentRow, *, source_file_id: int, run_id: int
) -> int:
    document_id = (
        await conn.execute(
            text(
                "INSERT INTO documents (sha256, bytes, page_count, file_name, url, fetched_at,"
                " status, reason, text_method, signed_on, program_model, extraction,"
                " source_file_id, load_run_id, extractor_version, read_at)"
                " VALUES (:sha, :size, :pages, :file_name, :url, :fetched_at, :status, :reason,"
                " :method, :signed_on, CAST(:model AS program_model_code),"
                " CAST(:extraction AS jsonb), :source_file_id, :run, :version, now())"
                " RETURNING id"
            ),
            {
                "sha": row.sha256,
                "size": row.size,
                "pages": row.page_count,
                "file_name": row.file_name,
                "url": row.url,
                "fetched_at": row.fetched_at,
                **_read_values(row, source_file_id, run_id),
            },
        )
    ).scalar_one()
    await _insert_contents(conn, document_id, row)
    await record_changes(conn, run_id, "document", [document_id], ChangeOp.UPSERT)
    return int(document_id)


def _read_values(row: DocumentRow, source_file_id: int, run_id: int) -> dict[str, Any]:
    """The columns a reading sets (a first read and a re-read alike)."""
    return {
        "status": row.status,
        "reason": _pg_opt(row.reason),
        "method": row.text_method,
        "signed_on": row.signed_on,
        "model": row.program_model,
        "extraction": orjson.dumps(row.extraction).decode(),
        "source_file_id": source_file_id,
        "run": run_id,
        "version": row.extractor_version,
    }


async def replace_document(
    conn: AsyncConnection, document_id: int, row: DocumentRow, *, source_file_id: int, run_id: int
) -> None:
    """A document read again: its reading, pages and fields replaced, the change recorded.
    Officials it named are re-derived by `officials_from_documents` (call it next)."""
    await conn.execute(
        text(
            "UPDATE documents SET status = :status, reason = :reason, text_method = :method,"
            " signed_on = :signed_on, program_model = CAST(:model AS program_model_code),"
            " extraction = CAST(:extraction AS jsonb), source_file_id = :source_file_id,"
            " load_run_id = :run, extractor_version = :version, read_at = now(),"
            " updated_at = now(), page_count = :pages WHERE id = :id"
        ),
        {"id": document_id, "pages": row.page_count, **_read_values(row, source_file_id, run_id)},
    )
    for table in ("document_pages", "document_fields"):
        await conn.execute(
            text(f"DELETE FROM {table} WHERE document_id = :id"),
            {"id": document_id},
        )
    await _insert_contents(conn, document_id, row)
    # Its officials are judged anew: their evidence from this document is forgotten, so
    # the re-read values replace them (officials_from_documents moves evidence only forward).
    await conn.execute(
        text("UPDATE officials SET evidence_on = NULL WHERE document_id = :id"),
        {"id": document_id},
    )
    await record_changes(conn, run_id, "document", [document_id], ChangeOp.UPSERT)


async def drop_stale_officials(conn: AsyncConnection, run_id: int, document_id: int) -> int:
    """After a re-read: the officials this document named before and no longer names."""
    gone = (
        await conn.execute(
            text(
                "DELETE FROM officials WHERE document_id = :id AND load_run_id <> :run RETURNING id"
            ),
            {"id": document_id, "run": run_id},
        )
    ).scalars()
    ids = list(gone)
    await record_changes(conn, run_id, "official", ids, ChangeOp.DELETE)
    return len(ids)


async def _insert_contents(conn: AsyncConnection, document_id: int, row: DocumentRow) -> None:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    await driver.copy_records_to_table(  # type: ignore[union-attr]
        "document_pages",
        columns=["document_id", "page_number", "method", "engine", "confidence", "reason", "text"],
        records=[
            (document_id, p.number, p.method, p.engine, p.confidence, p.reason, _pg_text(p.text))
            for p in row.pages
        ],
    )
    await driver.copy_records_to_table(  # type: ignore[union-attr]
        "document_fields",
        columns=[
            "document_id",
            "field",
            "ordinal",
            "value",
            "page",
            "method",
            "confidence",
            "reason",
            "raw",
            "candidate",
            "box",
        ],
        records=[
            (
                document_id,
                f.field,
                f.ordinal,
                _pg_opt(f.value),
                f.page,
                f.method,
                f.confidence,
                _pg_opt(f.reason),
                _pg_opt(f.raw),
                f.candidate,
                list(f.box) if f.box is not None else None,
            )
            for f in row.fields
        ],
    )


def _pg_text(value: str) -> str:
    """PostgreSQL text is valid UTF-8 without NUL characters (OCR and broken fonts produce
    NULs; a reader may hand out UTF-16 surrogates)."""
    return valid_unicode(value.replace("\x00", ""))


def _pg_opt(value: str | None) -> str | None:
    return None if value is None else _pg_text(value)


async def link_agreements(conn: AsyncConnection, document_ids: Iterable[int] | None = None) -> int:
    """(Re)link documents to the agreements whose MOA link names their file: the current
    moaUrl, or one an earlier list carried. Returns the number of links written."""
    ids = None if document_ids is None else sorted(set(document_ids))
    documents = (
        await conn.execute(
            text(
                "SELECT id, file_name FROM documents"
                + ("" if ids is None else " WHERE id = ANY(CAST(:ids AS bigint[]))")
            ),
            {"ids": ids},
        )
    ).all()
    by_name: dict[str, list[int]] = {}
    for document_id, name in documents:
        by_name.setdefault(name.lower(), []).append(document_id)
    urls = (
        await conn.execute(
            text(
                "SELECT id, moa_url, true FROM agreements WHERE moa_url IS NOT NULL"
                " UNION SELECT DISTINCT agreement_id, moa_url, false FROM agreement_observations"
                " WHERE moa_url IS NOT NULL"
            )
        )
    ).all()
    links: dict[tuple[int, int], bool] = {}
    for agreement_id, url, current in urls:
        for document_id in by_name.get(file_name_of(url).lower(), ()):
            key = (agreement_id, document_id)
            links[key] = links.get(key, False) or bool(current)
    await conn.execute(
        text(
            "DELETE FROM document_agreements"
            + ("" if ids is None else " WHERE document_id = ANY(CAST(:ids AS bigint[]))")
        ),
        {"ids": ids},
    )
    if links:
        await conn.execute(
            text(
                "INSERT INTO document_agreements (agreement_id, document_id, is_current)"
                " SELECT * FROM unnest(CAST(:a AS bigint[]), CAST(:d AS bigint[]),"
                " CAST(:c AS boolean[]))"
            ),
            {
                "a": [a for a, _ in links],
                "d": [d for _, d in links],
                "c": list(links.values()),
            },
        )
    # A file loaded from disk learns where ICE published it from the agreements' links.
    await conn.execute(
        text(
            "UPDATE documents d SET url = g.moa_url FROM document_agreements l"
            " JOIN agreements g ON g.id = l.agreement_id"
            " WHERE l.document_id = d.id AND l.is_current AND d.url IS NULL"
        )
    )
    return len(links)


async def agreement_urls_without_document(conn: AsyncConnection) -> list[str]:
    """The moaUrl of every agreement that has no document yet (`load moas` with no source)."""
    rows = (
        await conn.execute(
            text(
                "SELECT DISTINCT g.moa_url FROM agreements g WHERE g.moa_url IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM document_agreements l"
                " WHERE l.agreement_id = g.id AND l.is_current) ORDER BY g.moa_url"
            )
        )
    ).scalars()
    return list(rows)


_UPSERT_SIGNATORY = """
INSERT INTO officials (agency_id, name, official_key, title, source_url, load_run_id,
    document_id, source_page, evidence_on)
SELECT DISTINCT g.agency_id, CAST(:name AS text), CAST(:key AS text), CAST(:title AS text),
    CAST(:url AS text), CAST(:run AS bigint), l.document_id, CAST(:page AS integer),
    CAST(:evidence_on AS date)
FROM document_agreements l JOIN agreements g ON g.id = l.agreement_id
WHERE l.document_id = CAST(:document_id AS bigint)
ON CONFLICT (agency_id, official_key) DO UPDATE
SET name = EXCLUDED.name, title = EXCLUDED.title, source_url = EXCLUDED.source_url,
    load_run_id = EXCLUDED.load_run_id, document_id = EXCLUDED.document_id,
    source_page = EXCLUDED.source_page, evidence_on = EXCLUDED.evidence_on
WHERE officials.evidence_on IS NULL OR EXCLUDED.evidence_on >= officials.evidence_on
RETURNING id
"""


async def officials_from_documents(
    conn: AsyncConnection, run_id: int, document_ids: Iterable[int]
) -> int:
    """Each document's agency signatory, when published (a candidate never is: its
    confidence is below the threshold), becomes an official of the agencies whose
    agreements it is the MOA of; its evidence date is the document's published signing
    date, else the agency's own published date, else none (undated evidence never
    outranks dated evidence, so a document never overrides a newer source). One row per
    person and agency (`<name>|document`): a later MOA signed by the same person moves the
    evidence forward, never back."""
    ids = sorted(set(document_ids))
    rows = (
        await conn.execute(
            text(
                "SELECT d.id, d.url, d.signed_on, n.value AS name, n.page,"
                " (SELECT value FROM document_fields t WHERE t.document_id = d.id"
                "   AND t.field = 'agency_signatory.title' AND NOT t.candidate) AS title,"
                " (SELECT value FROM document_fields t WHERE t.document_id = d.id"
                "   AND t.field = 'agency_signatory.signed_on' AND NOT t.candidate) AS own_date"
                " FROM documents d JOIN document_fields n ON n.document_id = d.id"
                " AND n.field = 'agency_signatory.name' AND n.value IS NOT NULL"
                " AND NOT n.candidate"
                " WHERE d.id = ANY(CAST(:ids AS bigint[]))"
            ),
            {"ids": ids},
        )
    ).all()
    changed: list[int] = []
    for row in rows:
        evidence = row.signed_on or (dt.date.fromisoformat(row.own_date) if row.own_date else None)
        result = await conn.execute(
            text(_UPSERT_SIGNATORY),
            {
                "name": row.name,
                "key": f"{name_key(row.name)}|document",
                "title": row.title,
                "url": row.url,
                "run": run_id,
                "document_id": row.id,
                "page": row.page,
                "evidence_on": evidence,
            },
        )
        changed.extend(result.scalars())
    await record_changes(conn, run_id, "official", changed, ChangeOp.UPSERT)
    return len(changed)
