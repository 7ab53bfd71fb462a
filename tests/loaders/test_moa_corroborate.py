"""A signature-block name confirmed by the rest of the MOA (`loaders/moas/corroborate.py`):
generated names, misread the way OCR misreads them, still match the body's; other people,
places and fragments do not."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.loaders.moas.corroborate import (
    alike,
    body_names,
    corroborating,
    names_in_window,
)
from open287g.loaders.moas.extract import extract, points_of_contact
from open287g.loaders.moas.fields import parse_date, tidy_name
from open287g.loaders.moas.read import PageRead
from tests.support.moas import BY_SIGNING, laid_out

_FIRST = st.sampled_from(["Jason", "Gary", "Douglas", "Michelle", "Christopher", "Benjamin"])
_LAST = st.sampled_from(["Campbell", "Schuette", "Goerke", "Dasovich", "Kirkpatrick", "Osborne"])
_MIDDLE = st.sampled_from(["", "R. ", "A. ", "J. "])


def page(number: int, text: str) -> PageRead:
    return PageRead(number, "text-layer", "pdfium", None, text)


@settings(max_examples=60, deadline=None)
@given(_FIRST, _MIDDLE, _LAST, st.integers(0, 40), st.sampled_from(["swap", "split", "none"]))
def test_a_misread_name_matches_the_body(
    first: str, middle: str, last: str, where: int, how: str
) -> None:
    name = f"{first} {middle}{last}"
    if how == "swap":  # one letter misread (`Yason` for `Jason`)
        i = where % len(name)
        i = i + 1 if name[i] in " ." else i
        read = name[:i] + ("Y" if name[i] != "Y" else "X") + name[i + 1 :]
    elif how == "split":  # a word broken by the signature (`Se uette`)
        i = len(name) - 3 - where % 3
        read = name[:i] + " " + name[i:]
    else:
        read = name
    if len(read.split()[-1]) < 2 or not any(c.isalpha() for c in read.split()[-1]):
        return
    known = [f"Sheriff {name}"[8:], "Todd M. Lyons"]
    assert corroborating(read, known) == name


@settings(max_examples=60, deadline=None)
@given(_FIRST, _LAST, _FIRST, _LAST)
def test_another_person_does_not(first: str, last: str, other_first: str, other_last: str) -> None:
    if last == other_last:
        return
    assert not alike(f"{first} {last}", f"{other_first} {other_last}")


def test_body_names_come_from_introductions_not_places() -> None:
    pages = [
        page(1, "between ICE and the Deaf Smith County Sheriff's Office (LEA)."),
        page(7, "For the LEA: Date: Signature: Title:"),  # the signature page: skipped
        page(10, "POINTS OF CONTACT For the LEA: Sheriff Gary R. Schuette 212 W. Main"),
        page(12, "Date: 1/4/2020 Frank D. Osborne Sheriff Matagorda County"),
    ]
    names = body_names(pages, skip={7})
    assert "Gary R. Schuette" in names
    assert "Frank D. Osborne" in names
    assert not any("Smith" in n for n in names)
    assert corroborating("Gary R. Se uette", names) == "Gary R. Schuette"
    assert corroborating("Frank D.", names) is None  # a fragment is no name


def test_a_place_or_an_initial_is_not_a_name_in_a_window() -> None:
    assert names_in_window("New Smyrna Beach Police Department") == []
    assert names_in_window("Frank D.") == []
    names = names_in_window("Chief Donald Hagan, Lt. Belen Reyna")
    assert names[0] == "Donald Hagan"
    assert names[1].endswith("Belen Reyna")


@given(st.sampled_from("ABCDEJKMRT"), _LAST, _FIRST)
def test_an_initial_read_as_a_dash_is_an_initial(initial: str, last: str, first: str) -> None:
    assert tidy_name(f"{initial}- {first} {last}") == f"{initial}. {first} {last}"


_DATES = st.dates(dt.date(2019, 1, 1), dt.date(2025, 12, 31))
_FORMATS = st.sampled_from(["%B %d, %Y", "%m/%d/%Y", "%b %d, %Y", "%B %d, %y", "%Y.%m.%d"])


@settings(max_examples=40, deadline=None)
@given(_FIRST, _MIDDLE, _LAST, _DATES, _DATES, _FORMATS, st.integers(230, 300), st.booleans())
def test_a_generated_signature_block_is_read(
    first: str,
    middle: str,
    last: str,
    agency_on: dt.date,
    ice_on: dt.date,
    form: str,
    labels_at: int,
    misread: bool,
) -> None:
    """The 2025 form: headings, then `Date:`/`Name:`/`Title:` rows for both parties; the
    right party's labels may stand left of its heading; the agency's name, typed over
    the signature and read by OCR unsurely (a candidate alone), may be misread by a
    letter: the points of contact confirm it, and spell it."""
    name = f"{first} {middle}{last}"
    read = name.replace(last, "Y" + last[1:]) if misread else name
    signature = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [
                (60, "Date: " + agency_on.strftime(form)),
                (labels_at, "Date: " + ice_on.strftime(form)),
            ],
            [(60, "Signature:"), (labels_at, "Signature:")],
            [(60, "Name: " + read), (labels_at, "Name: Todd M. Lyons")],
            [(60, "Title: Sheriff"), (labels_at, "Title: Acting Director")],
        ],
        conf=80.0,
    )
    contacts = laid_out(10, [[(60, f"POINTS OF CONTACT For the LEA: Sheriff {name} 212 Main St.")]])
    extraction = extract([signature, contacts])
    agency, ice = extraction.agency_signatory, extraction.ice_signatory
    assert agency.name.value == name
    assert agency.name.published
    assert agency.title.value == "Sheriff"
    assert ice.name.value == "Todd M. Lyons"
    assert (agency.signed_on.value, ice.signed_on.value) == (
        agency_on.isoformat(),
        ice_on.isoformat(),
    )


def test_a_name_with_a_misread_title_before_it() -> None:
    page = laid_out(
        7,
        [
            [(60, BY_SIGNING)],
            [(60, "Timothy S. Robbins"), (320, "Sherilf Billy Woods")],
            [(60, "Acting Executive Associate Director"), (320, "Sheriff, Marion County")],
            [
                (60, "U.S. Immigration and Customs Enforcement"),
                (320, "Marion County Sheriff's Office"),
            ],
        ],
    )
    extraction = extract([page])
    assert extraction.agency_signatory.name.value == "Billy Woods"
    assert extraction.ice_signatory.name.value == "Timothy S. Robbins"


def test_a_short_year_needs_its_comma() -> None:
    assert parse_date("March 10, 25.")[0] == dt.date(2025, 3, 10)
    assert parse_date("June 2019")[0] is None


@settings(max_examples=30, deadline=None)
@given(_FIRST, _MIDDLE, _LAST, st.sampled_from(["", "Lt. ", "Sgt. ", "Capt. "]))
def test_points_of_contact_are_people_not_places(
    first: str, middle: str, last: str, rank: str
) -> None:
    name = f"{first} {middle}{last}"
    text = "\n".join(
        [
            "VII. POINTS OF CONTACT",
            "For ICE: Department of Homeland Security",
            "Immigration and Customs Enforcement",
            f"For the LEA: {rank}{name}",
            "Chief of Police",
            "51 Bald Eagle Drive, Marco Island, Fl 34145",
            "Town of Jupiter Island, Department of Public Safety",
            "Marco Island Police Dept",
            "Criminal Justice Authority",
            "VIII. EFFECTIVE DATE",
        ]
    )
    contacts = points_of_contact([page(10, text)])
    assert [c.value for c in contacts] == [name]


def test_a_stamp_whose_zero_reads_as_a_tilde() -> None:
    assert parse_date("SEP ~9 2019")[0] == dt.date(2019, 9, 9)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["Lake Clarke Shores", "New Hampshire", "Deaf Smith County"]))
def test_a_place_in_the_column_is_not_confirmed_by_the_body(place: str) -> None:
    """The agency's own name in its column (`Lake Clarke Shores Police Department`) and
    in the points of contact is a place both times, never the signatory."""
    signature = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date:"), (311, "Date:")],
            [(60, "Signature:"), (311, "Signature:")],
            [(60, "Title: Chief of Police"), (311, "Title: Acting Director")],
            [(60, f"Agency: {place} Police Department"), (311, "Agency: ICE")],
        ],
    )
    contacts = laid_out(10, [[(60, f"For the LEA: {place} Police Department, {place}")]])
    assert extract([signature, contacts]).agency_signatory.name.value is None


def test_an_ice_name_cut_short_is_the_officials() -> None:
    page = laid_out(
        7,
        [
            [(60, BY_SIGNING)],
            [(60, "Timothy S. Robbin"), (320, "Billy Woods")],
            [(60, "Acting Executive Associate Director"), (320, "Sheriff, Marion County")],
            [(60, "U.S. Immigration and Customs Enforcement"), (320, "Marion County Sheriff")],
        ],
    )
    assert extract([page]).ice_signatory.name.value == "Timothy S. Robbins"
