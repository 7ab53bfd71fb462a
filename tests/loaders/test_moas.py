"""MOA documents: text layer and OCR, signatories with evidence, storage once per sha256,
links to agreements, officials from signatures, full-text search (issue 13).

Values asserted here were read by eye from the shared PDFs (tests/data/moa_truth.csv).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.entities.page_text import PAGE_TEXT
from open287g.db.queries.documents import signing_date_disagreements
from open287g.db.rows import computed_sql, fetch_row
from open287g.loaders.moas.evaluate import report, score
from open287g.loaders.moas.fields import looks_like_name, parse_date
from open287g.loaders.moas.load import analyze, load_moas, plan_moas
from open287g.loaders.moas.predict import predicted
from open287g.loaders.moas.read import ReadLimits
from open287g.loaders.moas.truth import load_truth
from tests.support import hostile_pdfs
from tests.support.cli import cli_database, run_cli
from tests.support.fixtures import FREEBORN, JUPITER
from tests.support.moas import KINNEY, MOA_DIR, NO_OCR, TRUTH, one_page, pdf
from tests.support.moas import search_documents as _search


def test_text_layer_signatories_with_evidence() -> None:
    result = analyze(pdf(JUPITER), NO_OCR)
    pages = result.read.pages
    assert len(pages) == 14
    assert {p.method for p in pages} == {"text-layer"}
    assert all(p.engine and p.engine.startswith("pdfium") for p in pages)
    agency, ice = result.extraction.agency_signatory, result.extraction.ice_signatory
    # The stamp "Digitally signed by Michael Barbera DN: cn=Michael Barbera, o, ou," sits
    # beside the typed name; the name comes out once, clean.
    assert agency.name.value == "Michael Barbera"
    assert agency.name.page == 9
    assert agency.title.value == "Chief of Police"
    assert agency.signed_on.value == "2025-03-24"
    assert agency.agency.value == "Jupiter Police Department, FL"
    assert ice.name.value == "Todd M. Lyons"
    assert ice.title.value == "Acting Director"
    assert ice.signed_on.value == "2025-03-25"
    assert result.extraction.signed_on.value == "2025-03-25"
    assert result.extraction.program_model.value == "TASK_FORCE"
    assert 0.6 <= (agency.name.confidence or 0) <= 1
    # Appendix A names one person (ICE's side gives only offices and a title).
    contacts = [c.value for c in result.extraction.points_of_contact]
    assert contacts == ["Michael Barbera"]
    assert all(c.page == 10 for c in result.extraction.points_of_contact)


def test_font_without_unicode_map_is_decoded() -> None:
    result = analyze(pdf(FREEBORN), NO_OCR)
    page7 = result.read.pages[6].text
    assert "For the LEA" in page7
    assert ")RUWKH" not in page7
    agency, ice = result.extraction.agency_signatory, result.extraction.ice_signatory
    assert (agency.name.value, agency.title.value) == ("Ryan Shea", "Sheriff")
    assert (ice.name.value, ice.signed_on.value) == ("Todd M. Lyons", "2025-03-26")
    assert result.extraction.program_model.value == "WARRANT_SERVICE_OFFICER"


def test_unsure_values_are_null_with_a_reason() -> None:
    """Kansas: the agency signed by hand (no printed name); ICE printed only a title."""
    extraction = analyze(pdf("KansasBureauOfInv_TFM_MOA_02182025.pdf"), NO_OCR).extraction
    assert extraction.agency_signatory.name.value is None
    assert extraction.agency_signatory.name.reason
    assert extraction.agency_signatory.title.value == "Director"
    assert extraction.ice_signatory.name.value is None
    assert extraction.ice_signatory.name.reason


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")
def test_scanned_signature_page_is_read_with_ocr(tmp_path: Path) -> None:
    page = one_page(KINNEY, 9, tmp_path)
    result = analyze(page.read_bytes(), ReadLimits())
    (read,) = result.read.pages
    assert read.method == "ocr"
    assert (read.engine or "").startswith("tesseract")
    assert read.confidence is not None
    assert read.confidence > 0.8
    assert "By signing this MOA" in read.text
    agency, ice = result.extraction.agency_signatory, result.extraction.ice_signatory
    assert agency.name.value == "Brad Coe"
    assert agency.title.value == "Sheriff"
    assert ice.name.value == "Todd M. Lyons"
    assert ice.signed_on.value == "2025-03-25"
    assert (agency.name.confidence or 0) < 1  # OCR confidence carried into the value


def test_unreadable_files_have_a_reason() -> None:
    assert analyze(b"not a pdf at all", NO_OCR).read.reason == "not a PDF file (no %PDF- header)"
    broken = analyze(pdf(JUPITER)[:5000], NO_OCR).read
    assert broken.status == "unreadable"
    assert "cannot be opened" in (broken.reason or "")
    too_long = analyze(pdf(JUPITER), ReadLimits(max_pages=5, ocr=False)).read
    assert too_long.status == "unreadable"
    assert too_long.reason == "14 pages; the limit is 5"


def test_extraction_quality_on_a_handful_of_dev_files() -> None:
    """The fast check of `make test`: a dozen text-layer files of the development set
    (every third of the issue-13 sample), text layer only; precision must stay perfect.
    The full evaluation, dev and test sets with OCR, is `make moa-eval` (slow)."""
    rows = [r for r in load_truth(TRUTH) if r["kind"] == "text" and r["reader"] == "issue13"]
    rows = [r for r in rows if r["set"] == "dev"][::3]
    assert len(rows) >= 10
    predictions = {r["file"]: predicted(analyze(pdf(r["file"]), NO_OCR).extraction) for r in rows}
    scores = score(rows, predictions)
    print(report(scores))
    for name in ("agency_name", "agency_title", "ice_name", "ice_title", "signed_on"):
        assert scores[name].precision == 1.0, (name, scores[name].wrong)
        assert scores[name].recall >= 0.75, (name, scores[name].wrong)  # handwritten dates


async def test_load_stores_once_links_agreements_and_names_officials(
    conn: AsyncConnection, moa_agreements: None, tmp_path: Path
) -> None:
    folder = tmp_path / "moas"
    folder.mkdir()
    for name in (JUPITER, FREEBORN):
        shutil.copy(MOA_DIR / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    planned = plan_moas([str(folder)])
    first = await load_moas(conn, planned, Settings(), limits=NO_OCR)
    assert [r.status for r in first.results] == ["read", "read", "unreadable"]
    again = await load_moas(conn, planned, Settings(), limits=NO_OCR)
    assert [r.status for r in again.results] == ["unchanged"] * 3
    assert await conn.scalar(text("SELECT count(*) FROM documents")) == 3

    broken = (await conn.execute(text(
        "SELECT status, reason, page_count FROM documents WHERE file_name = 'broken.pdf'"
    ))).one()  # fmt: skip
    assert broken.status == "unreadable"
    assert "cannot be opened" in broken.reason

    jupiter = (await conn.execute(text(
        "SELECT d.id, d.url, d.signed_on, d.page_count, d.text_method, g.signed_on AS listed"
        " FROM documents d JOIN document_agreements l ON l.document_id = d.id AND l.is_current"
        " JOIN agreements g ON g.id = l.agreement_id WHERE d.file_name = :f"
    ), {"f": JUPITER})).one()  # fmt: skip
    assert jupiter.url == f"https://www.ice.gov/doclib/287gMOA/{JUPITER}"
    assert (jupiter.signed_on, jupiter.page_count, jupiter.text_method) == (
        dt.date(2025, 3, 25),
        14,
        "text-layer",
    )
    [pages] = await fetch_row(conn, computed_sql(PAGE_TEXT, {}, jupiter.id))
    assert [p["number"] for p in orjson.loads(pages)] == list(range(1, 15))

    officials = (await conn.execute(text(
        "SELECT o.name, o.title, o.evidence_on, o.source_page, o.source_url, a.name AS agency"
        " FROM officials o JOIN agencies a ON a.id = o.agency_id"
        " WHERE o.document_id IS NOT NULL ORDER BY o.name"
    ))).all()  # fmt: skip
    assert [(o.name, o.title, o.evidence_on, o.source_page, o.agency) for o in officials] == [
        ("Michael Barbera", "Chief of Police", dt.date(2025, 3, 25), 9,
         "Jupiter Police Department"),
        ("Ryan Shea", "Sheriff", dt.date(2025, 3, 26), 7, "Freeborn County Sheriff's Office"),
    ]  # fmt: skip

    # The list says the Jupiter MOA was signed 2025-03-20; the document says 2025-03-25.
    disagreements = await signing_date_disagreements(conn)
    assert [(d.list_signed_on, d.document_signed_on, d.days) for d in disagreements] == [
        (dt.date(2025, 3, 20), dt.date(2025, 3, 25), 5)
    ]


async def test_full_text_search_finds_a_phrase_on_its_page(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    await load_moas(conn, plan_moas([str(MOA_DIR / JUPITER)]), Settings(), limits=NO_OCR)
    (hit,) = await _search(conn, '"Military Trail"')
    assert hit["file_name"] == JUPITER
    assert hit["match_page"] == 10
    assert "«Military»" in hit["snippet"]
    assert await _search(conn, "zyzzyva") == []


async def test_a_phrase_as_written_ranks_first_and_snippets_show_the_match(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    """Unquoted, `Warrant Service Officer` finds pages holding the three words anywhere
    (stemmed: "Office" is "Officer"); the phrase as written ranks first, then the phrase
    once stemmed, then the words apart, and every snippet shows what matched."""
    stemmed = tmp_path / "stemmed.pdf"
    stemmed.write_bytes(hostile_pdfs.text_page("The warrant service office opens at nine."))
    apart = tmp_path / "apart.pdf"
    apart.write_bytes(
        hostile_pdfs.text_page(
            "A warrant is served by the agency.",
            *["This line is here to put distance between the words, nothing more."] * 8,
            "The service of this agreement is reviewed yearly.",
            *["This line is here to put distance between the words, nothing more."] * 8,
            "Each officer is trained first.",
        )
    )
    sources = [str(apart), str(stemmed), str(MOA_DIR / FREEBORN)]
    await load_moas(conn, plan_moas(sources), Settings(), limits=NO_OCR)
    hits = await _search(conn, "Warrant Service Officer")
    assert [h["file_name"] for h in hits] == [FREEBORN, "stemmed.pdf", "apart.pdf"]
    assert "«Warrant» «Service» «Officer»" in hits[0]["snippet"]
    assert "«warrant» «service» «office»" in hits[1]["snippet"]
    assert "«" in hits[2]["snippet"]  # the words are too far apart for one fragment
    quoted = await _search(conn, '"Warrant Service Officer"')
    assert [h["file_name"] for h in quoted] == [FREEBORN, "stemmed.pdf"]
    assert [h["file_name"] for h in await _search(conn, "warrant -officer")] == []
    either = await _search(conn, "opens OR yearly")
    assert sorted(h["file_name"] for h in either) == ["apart.pdf", "stemmed.pdf"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_plausible_date_or_a_reason(raw: str) -> None:
    date, reason = parse_date(raw, today=dt.date(2026, 1, 1))
    if date is None:
        assert reason
    else:
        assert dt.date(2005, 1, 1) <= date <= dt.date(2026, 1, 1)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=60))
def test_a_name_never_holds_digits_or_form_words(raw: str) -> None:
    if looks_like_name(raw):
        assert not any(c.isdigit() for c in raw)
        assert "signature" not in raw.lower()
        assert 2 <= len(raw.replace(",", " ").split()) <= 5


async def test_cli_says_why_a_source_cannot_be_loaded(
    server_url: URL, template_url: URL, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
    async with cli_database(server_url, template_url, monkeypatch):
        folder = tmp_path / "one"
        folder.mkdir()
        shutil.copy(MOA_DIR / JUPITER, folder / JUPITER)
        assert await run_cli(["load", "moas", str(folder), "--no-ocr", "--jobs", "1"]) == 0
        assert "moas: 1 file(s)" in capsys.readouterr().out
        assert await run_cli(["load", "moas", str(folder), "--no-ocr", "--jobs", "1"]) == 0
        assert "inserted 0 / unchanged 1" in capsys.readouterr().out
        # Nothing answers on port 9: the download fails, the command says so.
        unreachable = "http://127.0.0.1:9/287gMOA/x.pdf"
        assert await run_cli(["load", "moas", unreachable, "--jobs", "1"]) == 1
        assert "download failed" in capsys.readouterr().err
        assert await run_cli(["load", "moas", str(tmp_path / "missing")]) == 1
        assert "no such file or folder" in capsys.readouterr().err
