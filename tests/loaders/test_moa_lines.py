"""The line engine (`loaders/moas/lines.py`): a second OCR reading of scanned signature
pages, its words placed where the engine saw them, bounded like Tesseract."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.db.ingest.documents import KnownDocument
from open287g.loaders.moas.extract import EXTRACTOR_VERSION, extract
from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.lines import parse_lines, recognize_lines
from open287g.loaders.moas.load import reread_reason
from open287g.loaders.moas.ocr import OcrFailed
from open287g.loaders.moas.pdf import load_page, open_pdf, render_gray
from open287g.loaders.moas.read import (
    BLOCK_UNREAD,
    SCAN_UNREAD,
    ReadLimits,
    _lines,
    _OcrClock,
    read_pdf,
)
from tests.support.moas import KINNEY, one_page

_TEXT = st.text(alphabet="abcj.,- 0123", min_size=1, max_size=40)  # no capital: no space put back


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=4), scale=st.sampled_from([0.24, 0.5, 1.0]))
def test_words_are_the_lines_characters_between_spaces(texts: list[str], scale: float) -> None:
    lines = [
        {
            "text": text,
            "score": 0.9,
            "boxes": [[10.0 * i, 50.0 * n, 10.0 * i + 8, 50.0 * n + 20] for i in range(len(text))],
        }
        for n, text in enumerate(texts)
    ]
    page = parse_lines(lines, scale)
    assert [w.text for w in page.words] == [w for text in texts for w in text.split()]
    for word in page.words:
        assert word.x1 > word.x0 >= 0
        assert word.y1 - word.y0 == pytest.approx(20 * scale)
        assert word.x1 - word.x0 == pytest.approx((10 * (len(word.text) - 1) + 8) * scale)
        assert word.conf == 90.0
    assert page.text == "\n".join(texts)


def test_a_line_without_its_character_boxes_gives_no_words() -> None:
    page = parse_lines([{"text": "Todd M. Lyons", "score": 0.8, "boxes": [[0, 0, 1, 1]]}], 1.0)
    assert page.words == []
    assert page.text == "Todd M. Lyons"


def test_a_scanned_signature_page_is_read_by_both_engines(tmp_path: Path) -> None:
    read = read_pdf(one_page(KINNEY, 9, tmp_path).read_bytes(), ReadLimits())
    (page,) = read.pages
    assert page.words
    assert page.line_words
    seen = " ".join(w.text for w in page.line_words)
    assert "Lyons" in seen  # ICE's signatory, typed beside the signature
    assert all(0 <= w.x0 < w.x1 <= page.width + 1 for w in page.line_words)
    tesseract_only = extract([replace(page, line_words=[])])
    both = extract(read.pages)
    assert both.ice_signatory.name.value == tesseract_only.ice_signatory.name.value
    assert both.ice_signatory.name.value == "Todd M. Lyons"


def test_the_line_engine_is_bounded_in_time(tmp_path: Path) -> None:
    document = open_pdf(one_page(KINNEY, 9, tmp_path).read_bytes())
    image, points_per_pixel = render_gray(load_page(document, 0), 150, 40_000_000)
    with pytest.raises(OcrFailed, match=r"longer than 0\.05 s"):
        recognize_lines(image, points_per_pixel, timeout=0.05)


def test_a_signature_page_the_second_engine_could_not_read_is_partial(tmp_path: Path) -> None:
    """Tesseract's reading stands, and the page says why it stands alone: a `partial`
    document is read again by the next load, when the cause may be gone."""
    document = open_pdf(one_page(KINNEY, 9, tmp_path).read_bytes())
    image, points_per_pixel = render_gray(load_page(document, 0), 150, 40_000_000)
    by_signing = [Word("By", 72.0, 400.0, 84.0, 410.0), Word("signing", 87.0, 400.0, 120.0, 410.0)]
    spent = _OcrClock(ReadLimits(ocr_budget=0.0))
    words, reason = _lines(image, points_per_pixel, 1, spent, lambda kind, page: None, by_signing)
    assert words == []
    assert reason == (
        "signature block not read by the second OCR engine: "
        "the document's OCR budget of 0 s is spent"
    )
    # A page without the paragraph is not the line engine's: nothing to say.
    assert _lines(image, points_per_pixel, 1, spent, lambda kind, page: None, []) == ([], None)


def _words(text: str) -> list[str]:
    boxes = [[float(i), 0.0, i + 1.0, 1.0] for i in range(len(text))]
    return [w.text for w in parse_lines([{"text": text, "score": 0.9, "boxes": boxes}], 1.0).words]


@pytest.mark.parametrize(
    ("read", "words"),
    [
        ("DarrylDaniels", ["Darryl", "Daniels"]),
        ("Dennis M.Lemma", ["Dennis", "M.", "Lemma"]),
        (
            "U.S.Immigration and CustomsEnforcement",
            ["U.S.", "Immigration", "and", "Customs", "Enforcement"],
        ),
        ("AssistantDirector,Enforcement", ["Assistant", "Director,", "Enforcement"]),
        # Names written joined to a capital keep it: no space was lost there.
        ("Sam McCoy", ["Sam", "McCoy"]),
        ("Angus MacDonald", ["Angus", "MacDonald"]),
        ("Kris DiGiovanni", ["Kris", "DiGiovanni"]),
        ("Peter VanDyke", ["Peter", "VanDyke"]),
        ("March5,2025", ["March5,2025"]),
    ],
)
def test_the_spaces_the_engine_loses_are_put_back(read: str, words: list[str]) -> None:
    assert _words(read) == words


@settings(max_examples=80, deadline=None)
@given(st.lists(st.from_regex(r"[A-Z][a-z]{3,8}", fullmatch=True), min_size=2, max_size=4))
def test_capitalised_words_run_together_come_apart(words: list[str]) -> None:
    assert _words("".join(words)) == words


@pytest.mark.parametrize(
    ("status", "reason", "again"),
    [
        ("partial", f"page 9: {BLOCK_UNREAD}: line OCR took longer than 60 s", "second OCR"),
        ("partial", f"page 2: {SCAN_UNREAD}: tesseract is not installed", "OCR is available"),
        ("partial", "page 2: page cannot be loaded: bad", None),
        ("read", None, None),
    ],
)
def test_a_document_the_second_engine_missed_is_read_again(
    status: str, reason: str | None, again: str | None
) -> None:
    known = KnownDocument(1, status, reason, EXTRACTOR_VERSION, 1)
    why = reread_reason(known, ReadLimits())
    assert (why is None) if again is None else (again in (why or ""))
    assert reread_reason(known, ReadLimits(ocr=False)) is None  # OCR off: nothing better
