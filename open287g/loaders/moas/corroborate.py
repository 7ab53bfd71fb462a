"""A signatory's name checked against the rest of the MOA: the same person named where
the text is printed plainly.

An agency's signatory is usually named again outside the signature block, in typed
text that reads far better than a name typed over a signature: the points of contact
(`For the LEA: Sheriff Gary R. Schuette`, Appendix A), the preamble or a title before a
name (`Sheriff Chris West`). A name read in the signature block that matches one of
those (letters compared, so OCR's `Yason Campbell` or `Gary R. Se uette` still match) is
corroborated: its confidence rises to `CORROBORATED`, and a misread spelling is replaced
by the body's. A name-shaped line anywhere in the party's column (typed under the
title, above the heading, with no `Name:` label) counts only when corroborated. ICE's
signatories are corroborated by the short list of officials who sign MOAs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from open287g.loaders.moas.fields import looks_like_name, proper_case, tidy_name
from open287g.loaders.moas.read import PageRead

# The confidence of a signature-block name the body of the MOA confirms.
CORROBORATED = 0.95
# How alike (difflib ratio of the names' letters) a signature-block name and a body name
# must be to be one person; a name must have at least `_MIN_LETTERS` letters.
SIMILARITY = 0.85
_MIN_LETTERS = 8
# Where the body introduces a person: a party's heading in the points of contact, or a
# title written before a name.
_INTRO = re.compile(
    r"For\s+(?:the\s+)?[A-Z][\w.&'’ -]{0,40}?:"
    r"|\b(?:Sheriff|Chief(?:\s+of\s+Police)?|Director|Colonel|Jailer|Constable|Commissioner"
    r"|Superintendent|Secretary|Marshal|Attorney\s+General|Undersheriff|Warden|Mayor)\b",
)
_TITLE_AFTER = re.compile(r"(?<=[a-z.] )(?:Sheriff|Chief\s+of\s+Police|Director|Colonel)\b")
_WINDOW = 90  # characters after an introduction that may hold the names
# A run of capitalised words followed by one of these is a place or an agency's name
# (`Deaf Smith County`, `New Smyrna Beach Police`), not a person.
PLACE_AFTER = re.compile(
    r"^(?:County|Co\.?|Police|Sheriff'?s?|Department|Dept\.?|City|Town|Township|Parish|Beach"
    r"|Island|Fire|State|University|College|Board|Office|PD|SO|Division|Village|Borough)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"^(?:[A-Z]\.?(?:[A-Z]\.)*|[A-Z][A-Za-z'’\-]+\.?|(?:Jr|Sr)\.?|I{2,3}|IV),?$")


def letters(name: str) -> str:
    """A name's letters, lower case, suffixes and quoted nicknames dropped."""
    name = re.sub(r"[\"“”][^\"“”]*[\"“”]", " ", name)
    name = re.sub(r"\b(?:Jr|Sr|II|III|IV)\b\.?", " ", name)
    return re.sub(r"[^a-z]", "", name.lower())


def _surname(name: str) -> str:
    tokens = [letters(t) for t in name.split()]
    tokens = [t for t in tokens if t]
    return tokens[-1] if tokens else ""


def alike(read: str, known: str) -> bool:
    """Whether a name read in a signature block is the `known` name (misreads allowed)."""
    a, b = letters(read), letters(known)
    if min(len(a), len(b)) < _MIN_LETTERS and a != b:
        return False
    if difflib.SequenceMatcher(None, a, b).ratio() < SIMILARITY:
        return False
    # The surname, read whole or in part, must agree: `Gary R. Se uette` is Schuette,
    # but `John Smith` is not `John Smyth-Jones`.
    surname_read, surname_known = _surname(read), _surname(known)
    return (
        difflib.SequenceMatcher(None, surname_read, surname_known).ratio() >= 0.75
        or (len(surname_read) >= 3 and surname_read in surname_known)
        # OCR that lost the space or read it as a hyphen (`Chrie-West`): the known
        # surname ends what was read.
        or (len(surname_known) >= 3 and surname_read.endswith(surname_known))
    )


def same_person(a: str, b: str) -> bool:
    """The same first and last name (middle names and initials aside)."""
    ta, tb = [letters(t) for t in a.split()], [letters(t) for t in b.split()]
    ta, tb = [t for t in ta if t], [t for t in tb if t]
    return bool(ta and tb) and (ta[0], ta[-1]) == (tb[0], tb[-1])


def names_in_window(text: str) -> list[str]:
    """Each longest run (2–4 words) of name-shaped words in `text` that reads as a full
    name (not ending in an initial, not a place: see `PLACE_AFTER`)."""
    tokens = text.split()
    found: list[str] = []
    start = 0
    while start < len(tokens):
        for size in (4, 3, 2):
            run = tokens[start : start + size]
            if len(run) < size or not all(_TOKEN.match(t) for t in run):
                continue
            if any(t.endswith(",") for t in run[:-1]):
                continue  # a name does not run across a comma
            if start + size < len(tokens) and PLACE_AFTER.match(tokens[start + size]):
                continue
            name = proper_case(tidy_name(" ".join(run).rstrip(",")))
            if len(letters(name.split()[-1])) >= 2 and looks_like_name(name):
                if name not in found:
                    found.append(name)
                start += size - 1
                break
        start += 1
    return found


def body_names(pages: Sequence[PageRead], skip: Iterable[int] = ()) -> list[str]:
    """The people the MOA introduces outside its signature pages (`skip`)."""
    skipped = set(skip)
    found: list[str] = []
    for page in pages:
        if page.number in skipped:
            continue
        text = " ".join(page.text.split())
        for intro in _INTRO.finditer(text):
            window = text[intro.end() : intro.end() + _WINDOW]
            window = re.sub(r"^\s*(?:Sheriff|Chief|Director|Colonel|Lt\.?|Capt\.?)\s+", "", window)
            found += [n for n in names_in_window(window) if n not in found]
        for title in _TITLE_AFTER.finditer(text):  # `Frank D. Osborne Sheriff`
            window = text[max(0, title.start() - 40) : title.start()]
            found += [n for n in names_in_window(window)[-1:] if n not in found]
    return found


def corroborating(read: str, known: Sequence[str]) -> str | None:
    """The known name `read` is, if any (the closest when several are alike)."""
    matches = [k for k in known if alike(read, k)]
    if not matches:
        return None
    return max(
        matches, key=lambda k: difflib.SequenceMatcher(None, letters(read), letters(k)).ratio()
    )
