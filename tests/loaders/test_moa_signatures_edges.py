"""The signature block's reading at its edges (loaders/moas/signatures.py), on laid-out
words without PDFs: each step a name, title, date or ICE official goes through, what is
published and what stays a candidate, and which reading wins. `make mutate` measures how
many of the module's mutants these kill."""

from __future__ import annotations

import pytest

from open287g.loaders.moas.fields import PUBLISH_NAME_CONFIDENCE, Signatory, Value
from open287g.loaders.moas.form import Column, Found
from open287g.loaders.moas.layout import Line, Word
from open287g.loaders.moas.read import OCR, PageRead
from open287g.loaders.moas.signatures import (
    SCANNER_LAYER,
    _base,
    _better,
    _date_value,
    _dedupe,
    _digital,
    _expand,
    _first,
    _heading_name,
    _known_ice_official,
    _misread_title_dropped,
    _name_value,
    _respelt,
    _title_value,
    read_column,
    read_signatories,
    signature_columns,
)
from tests.support.moas import BY_SIGNING, laid_out


def found(text: str, conf: float | None = None, after: str = "") -> Found:
    words = [Word(t, 10.0 * i, 5.0, 10.0 * i + 8, 15.0, conf) for i, t in enumerate(text.split())]
    return Found(text, words, 9, "form", after)


def column(texts: list[str], role: str | None = "agency") -> Column:
    page = PageRead(9, "text-layer", None, None, "\n".join(texts))
    lines = [
        Line(tuple(Word(t, 10.0 * i, 24.0 * n, 10.0 * i + 8, 24.0 * n + 10) for i, t in
                   enumerate(text.split())))
        for n, text in enumerate(texts)
    ]  # fmt: skip
    return Column(role, lines, page)


def test_the_base_confidence_of_each_reading() -> None:
    def page(method: str) -> PageRead:
        return PageRead(1, method, None, None, "")

    assert _base(page(SCANNER_LAYER)) == 0.9
    assert _base(page("text-layer")) == 0.95
    assert _base(page(OCR)) == 0.97


@pytest.mark.parametrize(
    ("text", "once"),
    [
        ("Sarah Sarah M. M. Coursey", "Sarah M. Coursey"),
        ("Mark J. Mark J. Schneider", "Mark J. Schneider"),
        ("Mark J. Schneider Mark J. Schneider", "Mark J. Schneider"),
        ("John Smith", "John Smith"),
        ("John John", "John"),
        ("Mark J. Mark J. Schneider Jr.", "Mark J. Schneider Jr."),
        ("", ""),
    ],
)
def test_a_name_drawn_twice_is_read_once(text: str, once: str) -> None:
    assert _dedupe(text) == once


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Sherilf Billy Woods", "Billy Woods"),
        ("Chlef John Smith", "John Smith"),
        ("Colone1 John Smith", "John Smith"),
        ("Constab1e John Smith", "John Smith"),
        ("Direcor John Smith", "John Smith"),
        ("Sherilf Woods", "Sherilf Woods"),  # two words are a name
        ("Mary Ann Smith", "Mary Ann Smith"),
    ],
)
def test_a_misread_title_before_a_name_is_dropped(text: str, name: str) -> None:
    assert _misread_title_dropped(text) == name


def test_a_squeezed_title_is_expanded_only_when_it_spells_one() -> None:
    assert _expand("chiefofpolice") == ["Chief of Police"]
    assert _expand("actingexecutiveassociatedirector") == ["Acting Executive Associate Director"]
    assert _expand("chiefofpolic") == ["chiefofpolic"]


def test_names_read_from_their_cells() -> None:
    value = _name_value(found("Sheriff: JOHN SMITH"), 0.95)
    assert (value.value, value.published, value.method, value.page) == (
        "John Smith",
        True,
        "form",
        9,
    )
    assert value.box == (0.0, 5.0, 28.0, 15.0)
    assert _name_value(found("N John Smith"), 0.95).value == "John Smith"  # a label's letter
    assert _name_value(found("Name. Mary Jones"), 0.95).value == "Mary Jones"
    assert _name_value(found("Digitally signed by: Mary Jones"), 0.95).value == "Mary Jones"
    missing = _name_value(found("Marion County Sheriff"), 0.95)
    assert (missing.value, missing.reason, missing.raw, missing.page) == (
        None, "not a printed name", "Marion County Sheriff", 9,
    )  # fmt: skip
    unsure = _name_value(found("John Smith", conf=50.0), 0.95)
    assert (unsure.value, unsure.confidence, unsure.published) == ("John Smith", 0.475, False)
    assert unsure.reason == "low confidence 0.47: a candidate, not published"
    assert unsure.threshold == PUBLISH_NAME_CONFIDENCE
    lenient = _name_value(found("John Smith", conf=70.0), 0.95, threshold=0.6)
    assert (lenient.published, lenient.reason) == (True, None)
    at_gate = _name_value(found("John Smith"), PUBLISH_NAME_CONFIDENCE)
    assert at_gate.published


def test_titles_read_from_their_cells() -> None:
    title = _title_value(found("Sheriff"), 0.95)
    assert (title.value, title.confidence, title.published) == ("Sheriff", 0.95, True)
    squeezed = _title_value(found("Chiefof Police"), 0.95)
    assert (squeezed.value, squeezed.confidence) == ("Chief of Police", 0.855)
    unknown = _title_value(found("Nothing useful"), 0.95)
    assert (unknown.reason, unknown.page) == ("not a recognised title", 9)
    assert _title_value(found("Sheriff Reason: approved"), 0.95).value == "Sheriff"  # a stamp
    long = "Sheriff " + "and keeper of the county records " * 3
    too_long = _title_value(found(long), 0.95)
    assert (too_long.reason, too_long.page, too_long.raw) == ("title too long to be one", 9, long)
    assert _title_value(found("Sheriff " + "x" * 72), 0.95).value == "Sheriff " + "x" * 72
    assert _title_value(found("Sheriff " + "x" * 73), 0.95).value is None  # 81 characters


def test_dates_read_from_their_cells() -> None:
    date = _date_value(found("March 5, 2025"), 0.95)
    assert (date.value, date.raw, date.confidence) == ("2025-03-05", "March 5, 2025", 0.95)
    split = _date_value(found("March 5,", after="2025"), 0.95)
    assert (split.value, split.raw) == ("2025-03-05", "March 5,")
    typo = _date_value(found("3/5/2088", after="3/5/2025"), 0.95)
    assert (typo.value, typo.reason) == (None, "implausible date 2088-03-05 (a typo?)")
    unread = _date_value(found("Date:"), 0.95)
    assert (unread.reason, unread.raw, unread.page) == ("no date could be read", "Date:", 9)
    assert _date_value(found(""), 0.95).reason == "blank"


def test_a_digital_signature_stamp() -> None:
    stamp = column(["Digitally signed by John Q. Smith", "Date: 2025.03.04 10:11:12 -05'00'"])
    name, date = _digital(stamp)
    assert name is not None
    assert date is not None
    assert (name.text, name.method, name.page) == ("John Q. Smith", "digital-signature", 9)
    assert (date.text, date.method, date.page) == ("2025.03.04", "digital-signature", 9)
    dn = column(["DN: c=US, o=County, cn=Mary Jones, email=mj@x.gov"])
    name, date = _digital(dn)
    assert name is not None
    assert (name.text, date) == ("Mary Jones", None)
    assert _digital(column(["Date: 2025.03.04"])) == (None, None)


def test_a_heading_names_the_signatory() -> None:
    heading = _heading_name(column(["For the LEA: David E. Vincent", "Date:"]))
    assert heading is not None
    assert heading.page == 9
    assert (heading.text, heading.method, [w.text for w in heading.words]) == (
        "David E. Vincent", "heading", ["David", "E.", "Vincent"],
    )  # fmt: skip
    ice = _heading_name(column(["x", "y", "For ICE: Caleb Vitello"]))
    assert ice is not None
    assert ice.text == "Caleb Vitello"
    assert _heading_name(column(["x", "y", "z", "For ICE: Caleb Vitello"])) is None
    assert _heading_name(column(["For the LEA:"])) is None


def test_an_ice_official_read_in_part() -> None:
    exact = _known_ice_official(found("Todd M. Lyons"), 0.95)
    assert (exact.value, exact.method, exact.confidence) == ("Todd M. Lyons", "form", 0.95)
    assert exact.box == (0.0, 5.0, 28.0, 15.0)
    partial = _known_ice_official(found("T Lyons"), 0.95)
    assert (partial.value, partial.method, partial.confidence) == (
        "Todd M. Lyons", "form+known-official", 0.902,
    )  # fmt: skip
    assert partial.raw == "T Lyons"
    assert _known_ice_official(found("C. Vitello"), 0.95).value == "Caleb Vitello"
    for unknown in ("Lyons", "J Lyons", "Todd Lyon", "Todd Smith"):
        missing = _known_ice_official(found(unknown), 0.95)
        assert (missing.value, missing.reason, missing.page) == (
            None,
            "not a known ICE official",
            9,
        )
    at_gate = _known_ice_official(found("Todd M. Lyons"), 0.6)  # exactly PUBLISH_CONFIDENCE
    assert (at_gate.value, at_gate.confidence) == ("Todd M. Lyons", 0.6)
    unsure = _known_ice_official(found("T Lyons", conf=60.0), 0.95)
    assert unsure.value is None
    assert _known_ice_official(found("Todd M. Lyons", conf=64.0), 0.95).value == "Todd M. Lyons"


def test_the_first_published_value_then_the_first_candidate_then_a_reason() -> None:
    published = Value("A B", 1, "m", 0.9)
    candidate = Value("C D", 1, "m", 0.1)
    official = Value.missing("not a known ICE official")
    other = Value.missing("not a printed name")
    assert _first([candidate, published], "none") is published
    assert _first([official, candidate], "none") is candidate
    assert _first([official, other], "none") is other
    assert _first([official], "none") is official
    assert _first([], "none") == Value.missing("none")


def test_the_reading_with_more_values_wins() -> None:
    one = Signatory(name=Value("A B"))
    two = Signatory(name=Value("A B"), title=Value("Sheriff"))
    assert _better(one, two) is two
    assert _better(two, one) is two
    same = Signatory(title=Value("Sheriff"))
    assert _better(one, same) is one  # a tie keeps the first


def test_an_ice_name_cut_short_is_respelt() -> None:
    known = ["Timothy S. Robbins", "Todd M. Lyons"]
    cut = Value("Timothy S. Robbin", 7, "form", 0.9, None, None, (1.0, 2.0, 3.0, 4.0))
    respelt = _respelt(cut, known)
    assert respelt == Value(
        "Timothy S. Robbins", 7, "form+corroborated", 0.9, None, "Timothy S. Robbin",
        (1.0, 2.0, 3.0, 4.0),
    )  # fmt: skip
    assert _respelt(Value("Timothy S. Robbins", 7, "form", 0.9), known).method == "form"
    unsure = Value("Timothy S. Robbin", 7, "form", 0.1)
    assert _respelt(unsure, known) is unsure
    other = Value("Timothy S. Robbinsky", 7, "form", 0.9)  # not the official's name cut short
    assert _respelt(other, known) is other
    assert _respelt(Value(None), known) == Value(None)


def test_no_signature_block_says_so_for_every_value() -> None:
    agency, ice, page = read_signatories([laid_out(1, [[(60, "Nothing to sign here")]])])
    assert page is None
    for signatory in (agency, ice):
        for value in (signatory.name, signatory.title, signatory.agency, signatory.signed_on):
            assert value == Value.missing("no signature block found")


FORM: list[list[tuple[float, str]]] = [
    [(60, BY_SIGNING)],
    [(60, "For the LEA:"), (311, "For ICE:")],
    [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
    [(60, "Signature:"), (311, "Signature:")],
    [(60, "Name: Gary R. Schuette"), (311, "Name: T Lyons")],
    [(60, "Title: Sheriff"), (311, "Title: Acting Director")],
    [(60, "Agency: Kane County Sheriff's Office"), (311, "Signature:")],
]


def test_a_form_is_read_for_both_parties() -> None:
    agency, ice, page = read_signatories([laid_out(9, FORM)])
    assert page == 9
    assert (agency.name.value, agency.title.value, agency.signed_on.value) == (
        "Gary R. Schuette", "Sheriff", "2025-03-03",
    )  # fmt: skip
    assert agency.agency.value == "Kane County Sheriff's Office"
    assert agency.name.published
    assert (ice.name.value, ice.name.method) == ("Todd M. Lyons", "form+known-official")
    assert (ice.title.value, ice.signed_on.value) == ("Acting Director", "2025-03-04")
    # ICE's column names no agency: ICE is implied.
    assert (ice.agency.value, ice.agency.method, ice.agency.confidence) == (
        "U.S. Immigration and Customs Enforcement", "implied", 1.0,
    )  # fmt: skip
    assert ice.agency.page == ice.name.page == 9


def test_a_block_that_runs_over_takes_the_next_page() -> None:
    first = laid_out(8, [[(60, BY_SIGNING)], [(60, "For the LEA:"), (311, "For ICE:")]])
    second = laid_out(9, FORM[2:])
    columns = signature_columns([first, second])
    assert [(c.role, c.page.number) for c in columns] == [
        ("agency", 8), ("ice", 8), (None, 9), (None, 9),
    ]  # fmt: skip
    assert columns[2].text.startswith("Date: March 3, 2025\nSignature:")
    # A block of four lines or more stays on its page.
    assert {c.page.number for c in signature_columns([laid_out(9, FORM), second])} == {9}


def test_an_unsure_name_is_confirmed_by_the_body() -> None:
    signature = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
            [(60, "Name: Gary R. Se uette"), (311, "Name: Todd M. Lyons")],
            [(60, "Title: Sheriff"), (311, "Title: Director")],
        ],
        conf=80.0,
    )
    contacts = laid_out(10, [[(60, "POINTS OF CONTACT For the LEA: Sheriff Gary R. Schuette")]])
    agency, _, _ = read_signatories([signature, contacts])
    assert agency.name.value == "Gary R. Schuette"
    assert agency.name.published
    assert agency.name.threshold == PUBLISH_NAME_CONFIDENCE
    # The form's `Name:` cell is no name (`uette`); the column's line is, once confirmed.
    assert (agency.name.method, agency.name.raw, agency.name.confidence) == (
        "column+corroborated", "Gary R. Se uette", 0.95,
    )  # fmt: skip
    alone, _, _ = read_signatories([signature])
    assert (alone.name.value, alone.name.method, alone.name.published) == (
        "Gary R. Se", "near-title", False,
    )  # fmt: skip


def test_an_ice_signatory_is_published_at_icess_gate() -> None:
    """ICE's signatory does not become an agency's official: the lower gate applies."""
    page = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Name: Gary R. Schuette"), (311, "Name: Jane Roe")],
            [(60, "Title: Sheriff"), (311, "Title: Director")],
        ],
        conf=80.0,
    )
    agency, ice, _ = read_signatories([page])
    assert (ice.name.value, ice.name.confidence, ice.name.threshold) == ("Jane Roe", 0.776, 0.6)
    assert ice.name.published
    assert (agency.name.value, agency.name.published) == ("Gary R. Schuette", False)


def test_a_name_on_the_signature_line_is_a_candidate_and_an_ice_name_is_respelt() -> None:
    page = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
            [(60, "Signature: Gary Schuette"), (311, "Name: Timothy S. Robbin")],
            [(60, "Title: Sheriff"), (311, "Title: Director")],
        ],
    )
    agency, ice, _ = read_signatories([page])
    # Most often the handwriting: 0.95 × 0.85, below the agency's gate.
    assert (agency.name.value, agency.name.confidence, agency.name.published) == (
        "Gary Schuette", 0.8075, False,
    )  # fmt: skip
    assert (ice.name.value, ice.name.method, ice.name.raw) == (
        "Timothy S. Robbins", "form+corroborated", "Timothy S. Robbin",
    )  # fmt: skip


def test_a_block_of_four_lines_stays_on_its_page() -> None:
    four = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
        ],
    )
    columns = signature_columns([four, laid_out(10, FORM[2:])])
    assert [(c.role, c.page.number, len(c.lines)) for c in columns] == [
        ("agency", 9, 2), ("ice", 9, 2),
    ]  # fmt: skip


def test_a_name_the_body_confirms_keeps_its_spelling_when_it_is_the_same_person() -> None:
    signature = laid_out(
        9,
        [
            [(60, BY_SIGNING)],
            [(60, "For the LEA:"), (311, "For ICE:")],
            [(60, "Date: March 3, 2025"), (311, "Date: March 4, 2025")],
            [(60, "Name: Gary Schuette"), (311, "Name: Todd M. Lyons")],
            [(60, "Title: Sheriff"), (311, "Title: Director")],
        ],
        conf=80.0,
    )
    contacts = laid_out(10, [[(60, "POINTS OF CONTACT For the LEA: Sheriff Gary R. Schuette")]])
    agency, _, _ = read_signatories([signature, contacts])
    assert (agency.name.value, agency.name.method, agency.name.confidence) == (
        "Gary Schuette", "form+corroborated", 0.95,
    )  # fmt: skip


def test_a_column_without_a_name_says_so() -> None:
    assert read_column(column(["Title: Sheriff"])).name == Value.missing("no printed name")
    title = read_column(column(["Date: March 3, 2025", "Title: Sheriff"]))
    assert title.name.reason == "no printed name"
    assert (title.title.value, title.signed_on.value) == ("Sheriff", "2025-03-03")


def test_a_column_without_a_title_and_a_short_block_on_the_last_page() -> None:
    assert read_column(column(["Name: John Smith"])).title == Value.missing("no title")
    short = laid_out(9, [[(60, BY_SIGNING)], [(60, "For the LEA:"), (311, "For ICE:")]])
    assert [(c.role, c.page.number) for c in signature_columns([short])] == [
        ("agency", 9), ("ice", 9),
    ]  # fmt: skip
