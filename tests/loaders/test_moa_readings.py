"""Several readings of one signature page (Tesseract's, a scanner's text layer, the line
engine's) merged into one answer (`loaders/moas/extract.py`): what two readings agree on is
published, spelt as the fuller one; a name only the line engine reads stays a candidate;
the parties' dates must fit together."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.loaders.moas.extract import (
    DATE_AFTER_ICE,
    DATE_BEFORE_ICE,
    consistent_dates,
    extract,
)
from open287g.loaders.moas.fields import PUBLISH_CONFIDENCE, Value
from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.read import PageRead
from tests.support.moas import BY_SIGNING, laid_out


def signature_page(agency_name: str, ice_name: str, conf: float) -> PageRead:
    return laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
            [(60, f"Name: {agency_name}"), (311, f"Name: {ice_name}")],
            [(60, "Title: Sheriff"), (311, "Title: Acting Director")],
        ],
        conf=conf,
    )


def with_lines(page: PageRead, agency_name: str, ice_name: str, conf: float) -> PageRead:
    """`page` with a line engine's reading of the same block."""
    return replace(page, line_words=signature_page(agency_name, ice_name, conf).words)


def test_a_name_two_engines_read_alike_is_published_in_its_fuller_spelling() -> None:
    tesseract = signature_page("Eddie Joe Ite", "Todd M. Lyons", conf=85.0)
    alone = extract([tesseract]).agency_signatory.name
    assert (alone.value, alone.published) == ("Eddie Joe Ite", False)
    both = extract([with_lines(tesseract, "Eddie Joe White", "Todd M. Lyons", 85.0)])
    name = both.agency_signatory.name
    assert (name.value, name.published, name.confidence) == ("Eddie Joe White", True, 0.95)
    assert name.method == "form+ocr"


def test_a_name_only_the_line_engine_reads_stays_a_candidate() -> None:
    tesseract = signature_page("Zq", "Qz", conf=85.0)
    page = with_lines(tesseract, "Eddie Joe White", "Jane Roe", 99.0)
    result = extract([page])
    assert result.agency_signatory.name.value == "Eddie Joe White"
    assert not result.agency_signatory.name.published
    # ICE's lower gate does not apply to the line engine's names: unconfirmed, a candidate.
    assert result.ice_signatory.name.value == "Jane Roe"
    assert not result.ice_signatory.name.published


def test_a_published_name_missing_letters_is_completed_by_a_fuller_reading() -> None:
    tesseract = signature_page("Ravis Daugherty", "Todd M. Lyons", conf=99.0)
    assert extract([tesseract]).agency_signatory.name.value == "Ravis Daugherty"
    page = with_lines(tesseract, "TRAVIS DAUGHERTY", "Todd M. Lyons", 90.0)
    name = extract([page]).agency_signatory.name
    assert (name.value, name.published, name.method) == ("Travis Daugherty", True, "form+line-ocr")
    # Another name, not the same one with letters lost, changes nothing.
    other = with_lines(tesseract, "Mavis Daugherty", "Todd M. Lyons", 90.0)
    assert extract([other]).agency_signatory.name.value == "Ravis Daugherty"


def test_an_ice_name_cut_short_is_completed_from_the_officials() -> None:
    page = signature_page("Gary R. Schuette", "Todd M. Ly", conf=95.0)
    assert extract([page]).ice_signatory.name.value == "Todd M. Lyons"
    assert (
        extract([signature_page("Gary R. Schuette", "Todd X. Ly", 95.0)]).ice_signatory.name.value
        != "Todd M. Lyons"
    )


def dated(day: dt.date, confidence: float) -> Value:
    return Value(day.isoformat(), 9, "form", confidence)


@settings(max_examples=200, deadline=None)
@given(
    ice=st.dates(dt.date(2019, 1, 1), dt.date(2026, 12, 31)),
    gap=st.integers(-800, 800),
    agency_confidence=st.floats(PUBLISH_CONFIDENCE, 1.0),
    ice_confidence=st.floats(PUBLISH_CONFIDENCE, 1.0),
)
def test_dates_that_cannot_both_be_right_leave_the_less_sure_one_a_candidate(
    ice: dt.date, gap: int, agency_confidence: float, ice_confidence: float
) -> None:
    agency_date = dated(ice - dt.timedelta(days=gap), agency_confidence)
    ice_date = dated(ice, ice_confidence)
    agency_after, ice_after = consistent_dates(agency_date, ice_date)
    if -DATE_AFTER_ICE <= gap <= DATE_BEFORE_ICE:
        assert (agency_after, ice_after) == (agency_date, ice_date)
        return
    demoted = agency_after if agency_confidence <= ice_confidence else ice_after
    kept = ice_after if demoted is agency_after else agency_after
    assert demoted.candidate
    assert f"{abs(gap)} days apart" in (demoted.reason or "")
    assert kept.published
    assert kept in (agency_date, ice_date)


def test_one_date_alone_is_left_as_read() -> None:
    agency = dated(dt.date(2020, 3, 12), 0.7)
    assert consistent_dates(agency, Value.missing("no date")) == (agency, Value.missing("no date"))


def test_a_candidate_another_reading_reads_alike_in_the_same_place_is_published() -> None:
    tesseract = signature_page("Zq", "Todd M. Lyons", conf=85.0)
    lines = with_lines(tesseract, "Steve Whidden", "Todd M. Lyons", 90.0)
    alone = extract([lines]).agency_signatory.name
    assert (alone.value, alone.published) == ("Steve Whidden", False)
    # A scanner's layer that read `Steve id den` where the line engine read the name.
    scanner = signature_page("Steve id den", "Todd M. Lyons", conf=85.0).words
    name = extract([replace(lines, layer_words=scanner)]).agency_signatory.name
    assert (name.value, name.published, name.confidence) == ("Steve Whidden", True, 0.95)
    assert name.method == "form+scanner-layer"
    # The same words elsewhere on the page (not in the name's box) confirm nothing.
    unread = signature_page("Zq", "Todd M. Lyons", conf=85.0).words
    far = [Word(t, 90.0 + 40 * i, 600.0, 120.0 + 40 * i, 610.0, 85.0)
           for i, t in enumerate(["Steve", "id", "den"])]  # fmt: skip
    moved = extract([replace(lines, layer_words=unread + far)]).agency_signatory.name
    assert (moved.value, moved.published) == ("Steve Whidden", False)


def printed_block(agency_name: str, conf: float) -> PageRead:
    """The 2019-2020 template: names printed above titles, no labels."""
    return laid_out(
        7,
        [
            [(60, BY_SIGNING)],
            [(60, "Date: OCT 15 2019"), (311, "Date:")],
            [(60, "Timothy S. Robbins"), (311, agency_name)],
            [(60, "Acting Executive Associate Director"), (311, "Sheriff, Hendry County")],
            [(60, "U.S. Immigration and Customs Enforcement")],
        ],
        conf=conf,
    )


def test_a_printed_name_is_confirmed_by_the_words_another_reading_saw_there() -> None:
    tesseract = printed_block("~~ -", conf=85.0)
    lines = replace(tesseract, line_words=printed_block("Steve Whidden", 92.0).words)
    alone = extract([lines]).agency_signatory.name
    assert (alone.value, alone.published) == ("Steve Whidden", False)
    assert alone.method == "printed-block"
    scanner = printed_block("Steve id den", 85.0).words
    name = extract([replace(lines, layer_words=scanner)]).agency_signatory.name
    assert (name.value, name.published, name.method) == (
        "Steve Whidden", True, "printed-block+scanner-layer",
    )  # fmt: skip
    other = printed_block("Bill Leeper", 85.0).words  # another name there confirms nothing
    assert not extract([replace(lines, layer_words=other)]).agency_signatory.name.published


def test_a_reading_that_saw_more_letters_confirms_nothing() -> None:
    """`J6hnGrossnickle` (no name: a digit) shows letters `Jn Grossnickle` lost."""
    tesseract = signature_page("Jn Grossnickle", "Todd M. Lyons", conf=85.0)
    page = with_lines(tesseract, "J6hnGrossnickle", "Todd M. Lyons", 90.0)
    name = extract([page]).agency_signatory.name
    assert (name.value, name.published) == ("Jn Grossnickle", False)
    # The same reading with as many letters or fewer confirms it.
    page = with_lines(tesseract, "JnGrossnicke", "Todd M. Lyons", 90.0)
    assert extract([page]).agency_signatory.name.published
