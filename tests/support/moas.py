"""The shared MOA PDFs and the helpers the MOA tests share: one page of a real PDF, a
page laid out word by word, a search as /v1/documents runs it, two agencies whose list
links name real MOAs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pypdfium2 as pdfium
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.entities.document import DOCUMENT
from open287g.db.queries.documents import documents_page
from open287g.db.rows import Listing, fetch_row, page_sql
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.read import OCR, PageRead, ReadLimits
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import two_moa_agreements_xlsx, write

MOA_DIR = SHARED_DATA / "moa"
TRUTH = Path(__file__).resolve().parents[1] / "data" / "moa_truth.csv"
KINNEY = "KinneyCoTX_TFM_MOA_03.19.2025.pdf"  # a scan: no text layer at all
NO_OCR = ReadLimits(ocr=False)
# The paragraph a signature block follows, as laid-out pages write it.
BY_SIGNING = "By signing this MOA, each party agrees to the fullest extent allowed by law."


def pdf(name: str) -> bytes:
    return (MOA_DIR / name).read_bytes()


def laid_out(
    number: int, rows: list[list[tuple[float, str]]], conf: float | None = None
) -> PageRead:
    """A page whose words sit where `rows` put them: each row a list of (x, text), words
    5 points a character wide, rows 24 points apart; a text layer, or OCR's words with
    confidence `conf`."""
    words: list[Word] = []
    lines = []
    for r, row in enumerate(rows):
        y = 100.0 + 24 * r
        for x, text in row:
            for token in text.split():
                words.append(Word(token, x, y, x + 5 * len(token), y + 10, conf))
                x += 5 * (len(token) + 1)
        lines.append(" ".join(text for _, text in row))
    method = "text-layer" if conf is None else OCR
    return PageRead(number, method, None, conf, "\n".join(lines), words=words)


def one_page(name: str, page: int, tmp_path: Path) -> Path:
    """A real page of a shared PDF as a PDF of its own (OCR one page, not fourteen)."""
    source = pdfium.PdfDocument(pdf(name))
    target = pdfium.PdfDocument.new()
    target.import_pages(source, [page - 1])
    path = tmp_path / f"page{page}_{name}"
    target.save(str(path))
    return path


async def load_moa_agreements(conn: AsyncConnection, tmp_path: Path) -> None:
    """Two agencies whose MOA links name the shared PDFs (as ICE's list does)."""
    path = write(tmp_path, "participatingAgencies04012025am.xlsx", two_moa_agreements_xlsx())
    await load_sources(conn, plan_sources([str(path)]), Settings())


async def search_documents(conn: AsyncConnection, search: str) -> list[dict[str, Any]]:
    """The first page of a search, as /v1/documents builds it (one statement)."""
    query, ordering, order = documents_page(search, None)
    row = await fetch_row(conn, page_sql(DOCUMENT, Listing(query, ordering, order=order), 5))
    found: list[dict[str, Any]] = orjson.loads(row[-1])["data"]
    return found
