"""The MOA extractor's checks at their edges (loaders/moas/fields.py, corroborate.py): what
reads as a name, a title or a date, the plausible-date window at exactly its ends, the
publication threshold, and when a signature-block name is the body's. `make mutate`
measures how many of these modules' mutants the tests kill."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.loaders.moas.corroborate import (
    SIMILARITY,
    alike,
    body_names,
    corroborating,
    letters,
    names_in_window,
    same_person,
)
from open287g.loaders.moas.fields import (
    PUBLISH_CONFIDENCE,
    PUBLISH_NAME_CONFIDENCE,
    Extraction,
    Signatory,
    Value,
    find_title,
    looks_like_name,
    parse_date,
    proper_case,
    repaired_date,
    tidy_name,
)
from open287g.loaders.moas.read import PageRead

TODAY = dt.date(2026, 1, 1)

# --- values ------------------------------------------------------------------------------


def test_a_value_is_published_from_exactly_its_threshold() -> None:
    assert (PUBLISH_CONFIDENCE, PUBLISH_NAME_CONFIDENCE) == (0.6, 0.908)
    at = Value("Sam McCoy", 1, "form", 0.6)
    below = Value("Sam McCoy", 1, "form", 0.599)
    assert (at.published, at.candidate) == (True, False)
    assert (below.published, below.candidate) == (False, True)
    name = Value("Sam McCoy", 1, "form", 0.908, threshold=PUBLISH_NAME_CONFIDENCE)
    assert name.published
    assert not Value("Sam McCoy", 1, "form", 0.907, threshold=PUBLISH_NAME_CONFIDENCE).published
    unknown = Value("Sam McCoy", 1, "form", None)
    assert (unknown.published, unknown.candidate) == (False, True)
    nothing = Value(None, 1, "form", 1.0)
    assert (nothing.published, nothing.candidate) == (False, False)


def test_a_missing_value_says_why() -> None:
    assert Value.missing("no date", 3, "raw") == Value(None, 3, None, None, "no date", "raw")
    assert Value.missing("no date") == Value(None, None, None, None, "no date", None)
    empty = Signatory()
    assert [v.reason for v in (empty.name, empty.title, empty.agency, empty.signed_on)] == [
        "not found"
    ] * 4
    extraction = Extraction()
    assert extraction.program_model.reason == extraction.signed_on.reason == "not found"
    as_json = extraction.as_json()
    assert as_json["agency_signatory"]["name"]["reason"] == "not found"
    assert as_json["points_of_contact"] == []
    assert as_json["signature_page"] is None


# --- titles and names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Chief of Police", "Chief of Police"),  # the longest title wins
        ("Acting Executive Associate Director", "Acting Executive Associate Director"),
        ("Executive Associate Director", "Executive Associate Director"),
        ("Title: chief", "chief"),
        ("Police Chief, Town of Jupiter", "Police Chief"),
        ("CHIEF DEPUTY of the county", "CHIEF DEPUTY"),
        ("Undersheriff", "Undersheriff"),
        ("Sheriffs", None),  # whole words only
        ("nothing here", None),
    ],
)
def test_find_title(text: str, title: str | None) -> None:
    assert find_title(text) == title


@pytest.mark.parametrize(
    ("text", "is_name"),
    [
        ("John Smith", True),
        ("John", False),  # one word
        ("Mary Ann Lee Jones Smith", True),  # five words
        ("Mary Ann Lee Jones Smith Brown", False),  # six
        ("John Smith Jr.", True),
        ("John Smith III", True),
        ("John Jr.", False),  # a suffix is not a name
        ("Smith, John", True),
        ("Sean McCoy", True),
        ("Sean O'Brien", True),
        ("Ann MacDonald", True),
        ("Ann DeLuca", True),
        ("Mary-Jane Watson", True),
        ("C.M. Cronen", True),
        ("Al Bob", True),
        ("Al Bo", False),  # no word of three letters
        ("A. B. C.", False),  # only initials
        ("Jupiter FL", False),  # a place and its state
        ("M. Lyon", False),  # a first name read as one letter
        ("J Matz", False),
        ("John Smith2", False),
        ("john smith", False),
        ("John Smith Sheriff", False),
        ("Marion County", False),
    ],
)
def test_looks_like_name(text: str, is_name: bool) -> None:
    assert looks_like_name(text) is is_name


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("C.M . Cronen", "C.M. Cronen"),
        ("Todd M . Lyons", "Todd M. Lyons"),
        ("Todd M. Lyons , Jr", "Todd M. Lyons, Jr"),
        ("J- Dale Butler", "J. Dale Butler"),
        ("J– Dale Butler", "J. Dale Butler"),
        ("Todd ~ Lyons", "Todd Lyons"),
        (", John Smith ;", "John Smith"),
        ("- John Smith _", "John Smith"),
        ("John \t  Smith", "John Smith"),
    ],
)
def test_tidy_name(raw: str, tidy: str) -> None:
    assert tidy_name(raw) == tidy


def test_proper_case_only_changes_capitals() -> None:
    assert proper_case("TRAVIS DAUGHERTY") == "Travis Daugherty"
    assert proper_case("SAM MCCOY") == "Sam McCoy"
    assert proper_case("Sam mccoy") == "Sam mccoy"
    assert proper_case("") == ""


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("March 5, 2025", dt.date(2025, 3, 5)),
        ("Mar. 5 2025", dt.date(2025, 3, 5)),
        ("March 5, 25", dt.date(2025, 3, 5)),
        ("02/28/2025", dt.date(2025, 2, 28)),
        ("2-28-25", dt.date(2025, 2, 28)),
        ("2 / 28 / 2025", dt.date(2025, 2, 28)),
        ("2025.04.21", dt.date(2025, 4, 21)),
        ("2025-4-1", dt.date(2025, 4, 1)),
        ("OCT 1 5 2019", dt.date(2019, 10, 15)),
        ("SEP ~9 2019", dt.date(2019, 9, 9)),
        ("JAN 3 2 0 2 0", dt.date(2020, 1, 3)),
        ("M arch 5, 20 25", dt.date(2025, 3, 5)),  # OCR's spaces
        ("2/29/24", dt.date(2024, 2, 29)),
        ("2025.04.21 March 1, 2024 3/3/2023", dt.date(2025, 4, 21)),  # ISO first
        ("March 1, 2024 3/3/2023", dt.date(2024, 3, 1)),  # then words
        ("Feb 30, 2024 and 3/4/2024", dt.date(2024, 3, 4)),  # an impossible day is skipped
        ("1/1/2005", dt.date(2005, 1, 1)),  # the first plausible day
        ("1/1/2026", TODAY),  # today is plausible
    ],
)
def test_dates_as_written(text: str, date: dt.date) -> None:
    assert parse_date(text, today=TODAY) == (date, None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12/31/2004", "implausible date 2004-12-31 (a typo?)"),
        ("1/2/2026", "implausible date 2026-01-02 (a typo?)"),
        ("1/2/99", "implausible date 2099-01-02 (a typo?)"),
        ("March 5 25", "no date could be read"),  # a short year needs its comma
        ("13/45/2020", "no date could be read"),
        ("hello", "no date could be read"),
        ("", "blank"),
        ("   ", "blank"),
    ],
)
def test_dates_withheld_with_their_reason(text: str, reason: str) -> None:
    assert parse_date(text, today=TODAY) == (None, reason)


def test_today_is_the_default() -> None:
    tomorrow = dt.date.today() + dt.timedelta(1)
    assert parse_date(f"{tomorrow:%m/%d/%Y}")[0] is None
    assert parse_date(f"{dt.date.today():%m/%d/%Y}")[0] == dt.date.today()


# --- corroboration -----------------------------------------------------------------------


def test_letters_of_a_name() -> None:
    assert letters('John "Jack" Smith Jr.') == "johnsmith"
    assert letters("Bob “Bo” Smith III") == "bobsmith"
    assert letters("Bob Smith II.") == "bobsmith"
    assert letters("Bob Smith Sr") == "bobsmith"
    assert letters("Bob IVes") == "bobives"  # IV only as a word
    assert letters("O'Neil-Ray") == "oneilray"


@pytest.mark.parametrize(
    ("read", "known", "same"),
    [
        ("Al Bo", "Al Bo", True),  # short, but the same letters
        ("Jo Smith", "Jo Smyth", False),  # seven letters: too short to allow a misread
        ("Jon Smith", "Jon Smyth", True),  # eight letters: 0.875 alike
        ("Gary R. Se uette", "Gary R. Schuette", True),  # a part of the surname
        ("John Smith", "John Smyth-Jones", False),  # another surname
        ("Jonathan Smith", "Jonathan Smithers", True),
        ("Jonathan Smith", "Jonathan Brown", False),
        ("Jonathan Smi", "Jonathan Smith", True),  # three letters of it are enough
        ("Jonathan Sm", "Jonathan Smxy", False),
    ],
)
def test_alike(read: str, known: str, same: bool) -> None:
    assert alike(read, known) is same


def test_the_similarity_threshold_at_exactly_its_value() -> None:
    # 20 letters each, 17 in common: difflib ratio 2 × 17 / 40 = 0.85 exactly.
    known = "Abcdefghijklmno Smith"
    at = "Abcdefghijklxyz Smith"
    below = "Abcdefghijkwxyz Smith"
    assert SIMILARITY == 0.85
    assert alike(at, known)
    assert not alike(below, known)


def test_same_person() -> None:
    assert same_person("John A. Smith", "John Smith")
    assert same_person("John Smith Jr.", "John Smith")
    assert not same_person("John Smith", "Jon Smith")
    assert not same_person("John Smith", "John Smyth")
    assert not same_person("", "")
    assert not same_person("John Smith", "")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Chief Donald Hagan, Lt. Belen Reyna", ["Donald Hagan", "Lt. Belen Reyna"]),
        ("John Smith, Mary Jones", ["John Smith", "Mary Jones"]),
        ("Mary Ann Lee Jones Smith", ["Mary Ann Lee Jones"]),  # four words at most
        ("to John Smith and John Smith", ["John Smith"]),  # once
        ("New Smyrna Beach Police Department", []),
        ("Sheriff John Smith County", []),  # a place's name
        ("Frank D.", []),  # ends in an initial
        ("Ab Cd", []),
        ("JOHN SMITH", ["John Smith"]),
    ],
)
def test_names_in_window(text: str, names: list[str]) -> None:
    assert names_in_window(text) == names


def page(number: int, text: str) -> PageRead:
    return PageRead(number, "text-layer", "pdfium", None, text)


def test_body_names_read_a_window_after_each_introduction() -> None:
    far = "x" * 95
    pages = [
        page(1, "For the LEA: Sheriff Gary R. Schuette, 212 W. Main"),
        page(2, f"Sheriff {far} Nobody Here"),  # past the window
        page(3, "Director Caleb Vitello and Colonel Jane Doe"),
        page(4, "signed Frank D. Osborne Sheriff of Matagorda; Ann Lee Director"),
        page(5, "For ICE: Todd M. Lyons"),
    ]
    assert body_names(pages, skip={5}) == [
        "Gary R. Schuette", "Caleb Vitello", "Jane Doe", "Ann Lee", "Frank D. Osborne",
    ]  # fmt: skip
    assert body_names(pages[:1] * 2) == ["Gary R. Schuette"]
    assert body_names(pages)[-1] == "Todd M. Lyons"


def test_corroborating_names_the_closest_known_name() -> None:
    known = ["Jonathan Smyth", "Jonathan Smith", "Todd M. Lyons"]
    assert corroborating("Jonathan Smith", known) == "Jonathan Smith"
    assert corroborating("Jonathan Smyth", known) == "Jonathan Smyth"
    assert corroborating("Tod M. Lyons", known) == "Todd M. Lyons"
    assert corroborating("Madison Sheahan", known) is None
    assert corroborating("Jonathan Smith", []) is None


@settings(max_examples=40, deadline=None)
@given(
    st.dates(dt.date(2005, 1, 1), TODAY),
    st.sampled_from(["%B %d, %Y", "%m/%d/%Y", "%Y.%m.%d", "%b. %d %Y"]),
)
def test_any_plausible_date_reads_back(date: dt.date, form: str) -> None:
    assert parse_date(f"Date: {date.strftime(form)}", today=TODAY) == (date, None)


def test_a_state_code_ends_a_place_not_a_name() -> None:
    assert looks_like_name("John DC Smith")  # two capitals inside a name are initials
    assert not looks_like_name("West Palm Beach FL")


def test_a_surname_of_no_letters_is_empty() -> None:
    from open287g.loaders.moas.corroborate import _surname

    assert _surname("Gary R. Schuette") == "schuette"
    assert _surname("Jr. III") == ""
    assert _surname("") == ""


def test_same_person_with_a_middle_name_on_either_side() -> None:
    assert same_person("John Smith", "John A. Smith")
    assert same_person("John A. Smith", "John B. Smith")


def test_a_name_before_a_title_is_read_from_forty_characters_back() -> None:
    # The last name of the 40 characters before the title only.
    assert body_names([page(1, "John Smith, Mary Jones Sheriff")]) == ["Mary Jones"]
    assert body_names([page(1, "Al Frank Osborne Sheriff of Marion")]) == ["Al Frank Osborne"]
    before = "Al Mary Jones " + "x" * 26 + " "  # 41 characters: `Al` starts one too far
    assert len(before) == 41
    assert body_names([page(1, f"Zed {before}Sheriff of Marion")]) == ["Mary Jones"]


def test_more_edges_of_names() -> None:
    assert looks_like_name("Mary, Ann, Lee, Jones")  # commas are spaces, not words
    assert names_in_window("John Ng") == ["John Ng"]  # a surname of two letters
    assert names_in_window("MAX FELIX, Director") == ["Max Felix"]
    assert body_names([page(1, "For the LEA: Lt. Gary Schuette")]) == ["Gary Schuette"]
    # Surnames exactly 0.75 alike (`rudd`, `rudy`: 2 × 3 / 8) are one surname misread.
    assert alike("Jonathan Rudd", "Jonathan Rudy")


_CONFUSED = {"0": "OoDQ", "1": "lI|", "2": "Zz", "5": "Ss", "6": "bG", "8": "B", "9": "gq"}


@settings(max_examples=150, deadline=None)
@given(
    day=st.dates(dt.date(2019, 1, 1), dt.date(2025, 12, 31)),
    separator=st.sampled_from("/-."),
    picks=st.lists(st.integers(0, 3), min_size=10, max_size=10),
)
def test_a_handwritten_date_with_letters_for_digits_is_repaired(
    day: dt.date, separator: str, picks: list[int]
) -> None:
    written = f"{day.month:02d}{separator}{day.day:02d}{separator}{day.year}"
    misread = "".join(
        (_CONFUSED[c][picks[i] % len(_CONFUSED[c])] if c in _CONFUSED and i % 3 == 1 else c)
        for i, c in enumerate(written)
    )
    assert parse_date(repaired_date(f"Date: {misread}"))[0] == day


@settings(max_examples=100, deadline=None)
@given(day=st.dates(dt.date(2019, 1, 1), dt.date(2025, 12, 31)), where=st.integers(1, 3))
def test_a_month_misspelt_by_one_letter_is_repaired(day: dt.date, where: int) -> None:
    month = day.strftime("%B")
    if len(month) < 5:
        return  # May, June, July: too short to tell a misspelling from another word
    misspelt = month[:where] + "x" + month[where + 1 :]
    repaired = repaired_date(f"{misspelt} {day.day}.{day.year}")
    assert parse_date(repaired)[0] == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("4.29:2S", dt.date(2025, 4, 29)),  # a separator read as a colon, a 5 as an S
        ("Date: 3π13-2020", dt.date(2020, 3, 13)),
        ("3;17;2025", dt.date(2025, 3, 17)),
    ],
)
def test_a_separator_read_as_another_mark_is_repaired(text: str, day: dt.date) -> None:
    assert parse_date(repaired_date(text))[0] == day


@pytest.mark.parametrize(
    "text",
    [
        "Sheriff 12 men",
        "Ve 13.0",
        "Title: Chief of Police",
        "Monch 13, B0as",
        "Agency 9",
        "at 10:30",
        "4.74.25",
    ],
)
def test_text_that_is_no_date_stays_no_date(text: str) -> None:
    assert parse_date(repaired_date(text))[0] is None
