"""A signature-block name confirmed by the rest of the MOA (`loaders/moas/corroborate.py`):
generated names, misread the way OCR misreads them, still match the body's; other people,
places and fragments do not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.loaders.moas.corroborate import (
    alike,
    body_names,
    corroborating,
    names_in_window,
)
from open287g.loaders.moas.fields import tidy_name
from open287g.loaders.moas.read import PageRead

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
