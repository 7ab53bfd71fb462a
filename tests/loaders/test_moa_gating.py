"""Confidence gates publication (issue 20): a value read with low confidence is stored and
shown as a candidate, never published as a fact, and never an agency's current official;
the official in charge comes from the most recent confident evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.ingest.documents import (
    DATASET,
    insert_document,
    link_agreements,
    officials_from_documents,
)
from open287g.db.ingest.provenance import begin_load
from open287g.db.queries.agencies import officials_of_agencies
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.fields import PUBLISH_CONFIDENCE, Extraction, Signatory, Value
from open287g.loaders.moas.load import Analysis, PlannedMoa, document_row, field_rows
from open287g.loaders.moas.read import DocumentRead, PageRead
from open287g.loaders.sources import SourceDocument
from tests.support.fixtures import JUPITER, MOA_BASE, two_moa_agreements_xlsx, write

confidences = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def signed(name: str, confidence: float, on: str, date_confidence: float = 0.95) -> Extraction:
    """An MOA whose agency signatory is `name`, read with `confidence`, signed `on`."""
    agency = Signatory(
        name=Value(name, 9, "form", confidence, box=(320.0, 400.0, 420.0, 412.0)),
        title=Value("Chief of Police", 9, "form", 0.95),
        signed_on=Value(on, 9, "form", date_confidence),
    )
    ice = Signatory(signed_on=Value(on, 9, "form", date_confidence))
    return Extraction(
        agency_signatory=agency,
        ice_signatory=ice,
        signed_on=Value(on, 9, "later-of-both", date_confidence),
        program_model=Value("TASK_FORCE", 1, "text-pattern", 0.95),
    )


@given(confidences)
def test_a_value_is_published_only_at_or_above_the_threshold(confidence: float) -> None:
    value = Value("Sam McCoy", 7, "printed-block", confidence)
    assert value.published == (confidence >= PUBLISH_CONFIDENCE)
    assert value.candidate == (not value.published)
    (row,) = [r for r in field_rows(signed("Sam McCoy", confidence, "2025-03-01")) if
              r.field == "agency_signatory.name"]  # fmt: skip
    assert (row.value, row.candidate) == ("Sam McCoy", confidence < PUBLISH_CONFIDENCE)
    assert row.box == (320.0, 400.0, 420.0, 412.0)


@given(confidences)
def test_a_candidate_date_is_not_the_documents_signing_date(confidence: float) -> None:
    extraction = signed("Sam McCoy", 0.95, "2025-03-01", date_confidence=confidence)
    row = document_row(
        SourceDocument("x.pdf", b"%PDF-"), PlannedMoa("x.pdf"), _analysis(extraction)
    )
    expected = dt.date(2025, 3, 1) if confidence >= PUBLISH_CONFIDENCE else None
    assert row.signed_on == expected


def _analysis(extraction: Extraction) -> Analysis:
    page = PageRead(1, "text-layer", "pdfium", None, "For the LEA")
    return Analysis(DocumentRead(1, [page]), extraction)


@pytest.fixture
async def jupiter_agency(conn: AsyncConnection, tmp_path: Path) -> int:
    """The agency whose MOA link names the Jupiter PDF (as ICE's list does)."""
    path = write(tmp_path, "participatingAgencies04012025am.xlsx", two_moa_agreements_xlsx())
    await load_sources(conn, plan_sources([str(path)]), Settings())
    agency_id = await conn.scalar(
        text("SELECT agency_id FROM agreements WHERE moa_url LIKE :u"), {"u": f"%{JUPITER}"}
    )
    assert agency_id is not None
    return int(agency_id)


async def store(conn: AsyncConnection, extraction: Extraction, salt: bytes) -> int:
    """One more MOA of the Jupiter agreement (same file name, other bytes), stored the
    way `load moas` stores one: document, fields, links, officials."""
    document = SourceDocument(JUPITER, b"%PDF-1.7 " + salt, url=MOA_BASE + JUPITER)
    start = await begin_load(
        conn, dataset=DATASET, source=document.facts(), started_at=dt.datetime.now(dt.UTC)
    )
    row = document_row(document, PlannedMoa(JUPITER, MOA_BASE + JUPITER), _analysis(extraction))
    document_id = await insert_document(
        conn, row, source_file_id=start.source_file_id, run_id=start.load_run_id
    )
    await link_agreements(conn, [document_id])
    await officials_from_documents(conn, start.load_run_id, [document_id])
    return document_id


async def current_official(conn: AsyncConnection, agency_id: int) -> str | None:
    officials = (await officials_of_agencies(conn, [agency_id]))[agency_id]
    return next((o.name for o in officials if o.is_current), None)


@pytest.mark.parametrize("confidence", [0.0, 0.3, PUBLISH_CONFIDENCE - 0.01])
async def test_a_low_confidence_name_is_never_an_agencys_current_official(
    conn: AsyncConnection, jupiter_agency: int, confidence: float
) -> None:
    await store(conn, signed("Michael Barbera", 0.95, "2025-03-25"), b"first")
    assert await current_official(conn, jupiter_agency) == "Michael Barbera"
    # A newer MOA whose signatory was read with low confidence ("Sam Mcec" for Sam McCoy).
    newer = await store(conn, signed("Sam Mcec", confidence, "2025-06-01"), b"newer")
    assert await current_official(conn, jupiter_agency) == "Michael Barbera"
    names = await conn.scalars(text("SELECT name FROM officials WHERE agency_id = :a"),
                               {"a": jupiter_agency})  # fmt: skip
    assert "Sam Mcec" not in list(names)
    # Stored and shown as a candidate, with its evidence; the signatory shows no name.
    field = (await conn.execute(text(
        "SELECT value, candidate, confidence, page, box, reason FROM document_fields"
        " WHERE document_id = :d AND field = 'agency_signatory.name'"), {"d": newer}
    )).one()  # fmt: skip
    assert (field.value, field.candidate, field.page) == ("Sam Mcec", True, 9)
    assert field.box == [320.0, 400.0, 420.0, 412.0]
    assert "candidate" in field.reason


async def test_a_document_never_overrides_a_newer_confident_source(
    conn: AsyncConnection, jupiter_agency: int
) -> None:
    await store(conn, signed("Pat Newer", 0.95, "2025-06-01"), b"newer")
    await store(conn, signed("Olive Older", 0.95, "2024-01-10"), b"older")
    assert await current_official(conn, jupiter_agency) == "Pat Newer"
    # A confident name whose date is only a candidate has no evidence date: it ranks last.
    await store(conn, signed("Una Dated", 0.95, "2026-01-01", date_confidence=0.2), b"undated")
    assert await current_official(conn, jupiter_agency) == "Pat Newer"
