"""What the extractor returns, and the checks a value must pass before it is believed.

Every value carries its evidence: the page it came from, the box it was read from, the
method that found it and a confidence in [0, 1]. A value that fails a check (not a name,
not a date) is returned as None with the reason and the raw text. A value that passes
the checks but whose confidence is below `PUBLISH_CONFIDENCE` is a *candidate*: stored
and shown as such, never published as a fact nor as an agency's current official.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nameparser import HumanName  # type: ignore[import-untyped,unused-ignore]

# At or above this confidence a value is published as a fact; below it, a candidate.
# Chosen on the development set (`python -m open287g.loaders.moas.evaluate --set dev`):
# the lowest threshold at which published agency signatory names reach 98 % precision.
PUBLISH_CONFIDENCE = 0.6
# The agency signatory's name is published (and may become the agency's official) from
# this confidence on. Chosen on the development set (`evaluate --set dev --thresholds`, 50
# files): the lowest confidence at which published agency names reach 98 % precision
# (100 %, recall 49 %; at 0.6 it was 89.7 % precision, 71 % recall).
PUBLISH_NAME_CONFIDENCE = 0.908

# A threshold no confidence (at most 1) reaches.
_NEVER = 2.0

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin top left


@dataclass(frozen=True)
class Value:
    value: str | None
    page: int | None = None
    method: str | None = None
    confidence: float | None = None
    reason: str | None = None
    raw: str | None = None
    box: Box | None = None
    threshold: float = PUBLISH_CONFIDENCE  # the confidence from which it is published

    @property
    def published(self) -> bool:
        """A fact: read, and confident enough (else a candidate, or nothing)."""
        return self.value is not None and (self.confidence or 0.0) >= self.threshold

    @property
    def candidate(self) -> bool:
        return self.value is not None and not self.published

    def demoted(self, reason: str) -> Value:
        """This value as a candidate whatever its confidence: another fact contradicts it."""
        return replace(self, reason=reason, threshold=_NEVER)

    @staticmethod
    def missing(reason: str, page: int | None = None, raw: str | None = None) -> Value:
        return Value(None, page, None, None, reason, raw)


@dataclass
class Signatory:
    name: Value = field(default_factory=lambda: Value.missing("not found"))
    title: Value = field(default_factory=lambda: Value.missing("not found"))
    agency: Value = field(default_factory=lambda: Value.missing("not found"))
    signed_on: Value = field(default_factory=lambda: Value.missing("not found"))


@dataclass
class Extraction:
    agency_signatory: Signatory = field(default_factory=Signatory)
    ice_signatory: Signatory = field(default_factory=Signatory)
    points_of_contact: list[Value] = field(default_factory=list)
    program_model: Value = field(default_factory=lambda: Value.missing("not found"))
    signed_on: Value = field(default_factory=lambda: Value.missing("not found"))
    signature_page: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ICE officials who signed 287(g) MOAs (as printed in the shared MOAs, 2019–2025).
KNOWN_ICE_OFFICIALS = (
    "Todd M. Lyons",
    "Caleb Vitello",
    "Madison Sheahan",
    "C.M. Cronen",
    "Timothy S. Robbins",
    "Enrique M. Lucero",
)

# Titles of the people who sign MOAs, longest first so "Chief of Police" beats "Chief".
TITLE_WORDS = (
    "Executive Associate Director",
    "Acting Executive Associate Director",
    "Assistant Director",
    "Deputy Director",
    "Acting Director",
    "Director",
    "Chief of Police",
    "Police Chief",
    "Chief Deputy",
    "Chief",
    "Undersheriff",
    "Sheriff",
    "Jailer",
    "Secretary",
    "Commissioner",
    "Superintendent",
    "Colonel",
    "Constable",
    "Marshal",
    "Mayor",
    "Warden",
    "Attorney General",
    "Administrator",
    "Commander",
    "Executive Director",
    "President",
    "Adjutant General",
    "Major General",
    "Public Safety Director",
    "City Manager",
    "Town Manager",
    "Manager",
    "Captain",
    "Major",
    "Lieutenant",
    "Inspector General",
)
_TITLE = re.compile(
    r"\b(" + "|".join(re.escape(t) for t in sorted(TITLE_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_NAME_TOKEN = re.compile(
    r"^(?:[A-Z]\.?(?:[A-Z]\.)*|[A-Z][a-zA-Z'’\-]+\.?|(?:Mc|Mac|O'|De|La)[A-Z][a-z]+)$"
)
_SUFFIX = re.compile(r"^(?:Jr\.?|Sr\.?|II|III|IV)$")
_NOT_NAME = re.compile(
    r"\b(sheriff|office|county|police|department|director|enforcement|immigration|customs|"
    r"signature|title|date|agency|name|chief|security|homeland|lea|ice|the|for|of|and|"
    r"division|state|city|town|operations|removal|acting|executive|associate|bureau|"
    r"digitally|signed|reason|location|dn|email|jail|detention|center|colonel|department|"
    r"marshal|constable|jailer|mayor|secretary|commissioner|attorney|general|gov|us|"
    r"section|appendix|services?|act|states|united|federal|building|drive|road|rd|street|"
    r"avenue|ave|suite|legal|advisor|public|affairs|program|field|unit)\b",
    re.IGNORECASE,
)


def find_title(text: str) -> str | None:
    match = _TITLE.search(text)
    return match.group(1) if match else None


def looks_like_name(text: str) -> bool:
    """A person's printed name: 2–5 capitalised tokens (initials allowed), no digits and
    none of the words of titles and agencies."""
    tokens = text.replace(",", " ").split()
    if not 2 <= len(tokens) <= 5 or _NOT_NAME.search(text) or re.search(r"\d", text):
        return False
    core = [t for t in tokens if not _SUFFIX.match(t)]
    if len(core) < 2 or not all(_NAME_TOKEN.match(t) for t in core):
        return False
    if re.fullmatch(r"[A-Z]{2}", core[-1]):
        return False  # "Washington DC", "Jupiter FL": a place and its state
    if len(core) == 2 and re.fullmatch(r"[A-Z]\.?", core[0]):
        return False  # "M. Lyon", "J Matz": a first name read as one letter is a misread
    return any(len(t.rstrip(".")) >= 3 for t in core)  # not only initials


def proper_case(name: str) -> str:
    """`TRAVIS DAUGHERTY` → `Travis Daugherty`, `SAM MCCOY` → `Sam McCoy` (nameparser's
    capitalisation rules); a name already in mixed case is left as written."""
    if not name.isupper():
        return name
    parsed = HumanName(name)
    parsed.capitalize(force=True)
    return str(parsed) or name


def tidy_name(text: str) -> str:
    """Spacing repaired: `C.M. Cronen`, `Todd M. Lyons` (OCR splits `M .`)."""
    text = re.sub(r"\s+([.,])", r"\1", text)
    text = re.sub(r"\b([A-Z])[-–](?=\s)", r"\1.", text)  # OCR's `J- Dale Butler`
    text = " ".join(t for t in text.split() if re.search(r"[A-Za-z]", t))  # stray marks
    text = re.sub(r"\s+", " ", text).strip(" ,;:-_")
    return text


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\s?[/\-.]\s?(\d{1,2})\s?[/\-.]\s?(\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(20\d\d)[.\-/](\d{1,2})[.\-/](\d{1,2})(?!\d)")
_WORD_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*(\d{1,2})(?:\s*,?\s*(\d{4})|,\s*(\d{2}))\b",
    re.IGNORECASE,
)
_SPACED_WORD_DATE = re.compile(
    r"\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\s*-?\s*~?(\d)\s?(\d)?\s+((?:\d\s?){4})\b"
)


# Letters OCR reads for handwritten digits (`O3/ob/2o25` is 03/06/2025).
_DIGIT_FOR = str.maketrans("OoDQlI|ZzSsbGBgq", "0000111225566899")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip


def repaired_date(text: str) -> str:
    """`text` with OCR's usual misreadings of a handwritten date undone: a month name
    misspelt (`Fe brvarz 28.2025`, `Marrh 12`) spelt right, a separator read as another
    mark (`4.29:2S`, `3π13-2020`), and in a token of digits and separators, letters that
    stand for digits read as those digits (`O3/ob/2o25`). What
    it gives is a guess: its caller reads it at a lower confidence."""

    def month(match: re.Match[str]) -> str:
        word = re.sub(r"\s", "", match.group(0)).lower()
        best = max(_MONTH_NAMES, key=lambda m: difflib.SequenceMatcher(None, word, m).ratio())
        close = difflib.SequenceMatcher(None, word, best).ratio() >= 0.72
        return best.capitalize() if close and len(best) >= 5 else match.group(0)

    # A separator OCR read as another mark between two groups of digits (`4.29:2S`, `3π13`).
    text = re.sub(r"(?<=[0-9])[:;π](?=[0-9A-Za-z])", "-", text)
    text = re.sub(r"\b[A-Za-z]{2,}(?: [a-z]{2,})?(?=\s*\d)", month, text)
    text = re.sub(r"\b([A-Z][a-z]+ \d{1,2})\.\s?(\d{4})\b", r"\1, \2", text)  # `28.2025`

    def digits(match: re.Match[str]) -> str:
        token = match.group(0)
        if sum(c.isdigit() for c in token) < 2 or not re.search(r"[/\-.]", token):
            return token
        return token.translate(_DIGIT_FOR)

    return re.sub(r"[0-9A-Za-z|]+(?:[/\-.][0-9A-Za-z|]+){2}", digits, text)


def parse_date(text: str, today: dt.date | None = None) -> tuple[dt.date | None, str | None]:
    """(date, None) for the first date written in `text`, or (None, reason).

    Accepts `March 5, 2025`, `March 5, 25`, `02/28/2025`, `2/28/25`, `2025.04.21` (digital
    signatures) and OCR's spaced stamps (`OCT 1 5 2019`, `SEP ~9 2019`: a stamp's 0 read
    as a tilde). A date in the future or before 2005 is a typo (a 2028 for 2025):
    withheld with its reason."""
    today = today or dt.date.today()
    text = re.sub(r"\b([A-Z]) ([a-z]{2,})", r"\1\2", text)  # OCR's "M arch"
    text = re.sub(r"\b(20) ?([0-3]) ?(\d)\b", r"\1\2\3", text)  # OCR's "20 25"
    candidates: list[tuple[int, int, int]] = []
    if m := _ISO_DATE.search(text):
        candidates.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    if m := _WORD_DATE.search(text):
        # `March 10, 25` (handwritten, the comma required): 2025
        year = int(m.group(3)) if m.group(3) else 2000 + int(m.group(4))
        candidates.append((year, _MONTHS[m.group(1).lower()[:3]], int(m.group(2))))
    if m := _SPACED_WORD_DATE.search(text):
        day = int(m.group(2) + (m.group(3) or ""))
        candidates.append((int(m.group(4).replace(" ", "")), _MONTHS[m.group(1).lower()], day))
    if m := _NUMERIC_DATE.search(text):
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        candidates.append((year, int(m.group(1)), int(m.group(2))))
    for year, month, day in candidates:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue
        if date > today or date.year < 2005:
            return None, f"implausible date {date.isoformat()} (a typo?)"
        return date, None
    return None, "no date could be read" if text.strip() else "blank"
