"""Facts of an MOA as data with evidence: signatories, points of contact, program model,
signing date (`fields.Extraction`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import combinations
from operator import attrgetter

from open287g.db.models.enums import ProgramModelCode
from open287g.loaders.moas.blocks import name_in, read_title
from open287g.loaders.moas.corroborate import CORROBORATED, PLACE_AFTER, alike, letters
from open287g.loaders.moas.fields import Extraction, Signatory, Value, proper_case
from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.read import OCR, PageRead
from open287g.loaders.moas.signatures import LINE_OCR, SCANNER_LAYER, read_signatories

# The version of what reads an MOA (text, OCR, extraction). Each document records the
# version that read it; `open287g load moas` reads again every document an older version
# read. Raise it with any change that may read a document differently.
EXTRACTOR_VERSION = 10  # 2: layout, OCR of scanned signature pages; 3: + their layer; 4: gate
# 5: names corroborated by the rest of the MOA; a scanner's layer and the signature line
# itself read at lower confidence; 6: the right party's labels left of its heading;
# 7: points of contact without places, institutions, ranks; 8: a column line confirms a
# name only when it holds nothing else; ICE names cut short completed; 9: a second OCR
# engine (`lines.py`) reads signature pages; readings that agree corroborate a name, the
# fuller spelling wins; parties' dates months apart are candidates; handwritten dates
# repaired (letters for digits, misspelt months); 10: a date separator OCR read as another
# mark (`4.29:2S`)

_MODELS = (
    (ProgramModelCode.TRIBAL_TASK_FORCE, re.compile(r"Tribal\s+Task\s+Force", re.IGNORECASE)),
    (ProgramModelCode.TASK_FORCE, re.compile(r"Task\s+Force\s+Model|\bTFM\b", re.IGNORECASE)),
    (
        ProgramModelCode.WARRANT_SERVICE_OFFICER,
        re.compile(r"Warrant\s+Service\s+Officer|\bWSO\b", re.IGNORECASE),
    ),
    (
        ProgramModelCode.JAIL_ENFORCEMENT,
        re.compile(r"Jail\s+Enforcement\s+Model|\bJEM\b|jail\s+enforcement", re.IGNORECASE),
    ),
)
# The readings of a scanned signature page besides Tesseract's (`PageRead.words`): the
# scanner's own text layer and the line engine's, each with the words it gives a page.
_SECOND_READINGS: tuple[tuple[str, Callable[[PageRead], list[Word]]], ...] = (
    (SCANNER_LAYER, attrgetter("layer_words")),
    (LINE_OCR, attrgetter("line_words")),
)
# How far the parties' signing dates may lie apart (days): the agency's at most this much
# after ICE's, and at most this much before it (`consistent_dates`).
DATE_AFTER_ICE = 30
DATE_BEFORE_ICE = 366
# The 2019-2020 Warrant Service Officer template never names its model: its purpose is
# "the custodial transfer of specific aliens in [the agency's] jail ... at the time of the
# alien's scheduled release from criminal custody" (a WSO's warrant service at release).
_WSO_PURPOSE = re.compile(
    r"custodial\s+transfer\s+of\s+specific\s+aliens.{0,200}?scheduled\s+release",
    re.IGNORECASE | re.DOTALL,
)
# The section's heading on a line of its own (`VII. POINTS OF CONTACT`, OCR's `VU.`), not
# a sentence that mentions it.
_POC_HEADING = re.compile(
    r"^[ \t]*(?:[A-Z]{1,4}\.[ \t]*)?POINTS[ \t]+OF[ \t]+CONTACT[ \t]*:?[ \t]*$", re.MULTILINE
)
_POC_PUBLIC = re.compile(r"PUBLIC\s+INFORMATION", re.IGNORECASE)
# The next section after the points of contact: `VIII. EFFECTIVE DATE`, an appendix.
_SECTION = re.compile(r"^\s*(?:[IVXL]{1,5}\.\s*[A-Z]{3}|APPENDIX\b|Revised\s+\d)")


# What follows a city in an address (`, MN 55744`), words of institutions, not people,
# and a rank before a contact's name (`Lt. Kathryn Gotz`).
_CITY_AFTER = re.compile(r"^\s*,?\s*[A-Z][A-Za-z]\.?\s+\d{5}")
_INSTITUTION = re.compile(
    r"\b(Authority|Commission|Justice|Guard|National|MOA|Moa|Marshall?|Academy|Council)\b"
)
_RANK = re.compile(r"^(?:Lt|Lieut|Sgt|Capt|Cpt|Maj|Det|Cmdr|Ofc|Dep)\.?\s+")


def program_model(pages: Sequence[PageRead]) -> Value:
    """The model the MOA names most often on its first two pages (the purpose clause)."""
    counts: dict[ProgramModelCode, tuple[int, int]] = {}
    for read in pages[:2]:
        for code, pattern in _MODELS:
            hits = len(pattern.findall(read.text))
            if code is ProgramModelCode.TASK_FORCE:
                hits -= len(_MODELS[0][1].findall(read.text))
            if hits > 0:
                before = counts.get(code, (0, read.number))
                counts[code] = (before[0] + hits, before[1])
    if not counts:
        for read in pages[:2]:
            if _WSO_PURPOSE.search(read.text):
                code = ProgramModelCode.WARRANT_SERVICE_OFFICER
                return Value(code.value, read.number, "purpose-clause", 0.8)
        return Value.missing("no program model named on the first pages")
    ranked = sorted(counts.items(), key=lambda kv: -kv[1][0])
    (code, (hits, page)) = ranked[0]
    if len(ranked) > 1 and ranked[1][1][0] * 2 > hits:
        return Value.missing(
            "several program models named", page, ", ".join(c.value for c, _ in ranked)
        )
    confidence = 0.95 if hits >= 2 else 0.7
    return Value(code.value, page, "text-pattern", confidence)


def points_of_contact(pages: Sequence[PageRead]) -> list[Value]:
    """The people the MOA names as points of contact (the agency's and ICE's), in
    document order: name-shaped words in the "POINTS OF CONTACT" section (Appendix A in
    recent MOAs, section VII in older ones; not the public-information appendix), up to
    the next section. Titles, offices, addresses and phone numbers are not names."""
    for page in pages:
        heading = _POC_HEADING.search(page.text)
        if heading is None or _POC_PUBLIC.search(
            page.text[max(0, heading.start() - 40) : heading.end()]
        ):
            continue
        base = 0.9 if page.method != OCR else (page.confidence or 0.0) * 0.9
        values: list[Value] = []
        for raw in page.text[heading.end() :].splitlines():
            if _SECTION.match(raw):
                break
            line = re.sub(r"^\s*For\s+(the\s+)?[^:]{1,60}:", " ", raw)
            line = re.sub(r"\b(Name|Title|Phone|Email|E-mail|Address)\s*:", " ", line)
            pieces = re.split(r"([,/;|]| - |\s{3,})", line)
            for k in range(0, len(pieces), 2):
                piece, rest = pieces[k], "".join(pieces[k + 1 :])
                title = read_title(piece.strip())
                if re.search(r"\d|Revised", piece) or (title is not None and "," not in title):
                    continue  # an address, a phone number, a footer, a title alone
                if _CITY_AFTER.match(rest) or _INSTITUTION.search(piece):
                    continue  # `Grand Rapids, MN 55744`; `Wildlife Conservation Commission`
                name = name_in(_RANK.sub("", piece.strip()))
                before, _, after = (piece + rest).partition(name or "\0")
                if name and (PLACE_AFTER.match(after.strip()) or before.endswith(" of ")):
                    continue  # `Marco Island Police Dept`, `Town of Jupiter Island`: places
                if name and not any(v.value == name for v in values):
                    values.append(Value(name, page.number, "points-of-contact", round(base, 3)))
        if values:
            return values[:12]
    return []


def extract(pages: Sequence[PageRead]) -> Extraction:
    agency, ice, page = read_signatories(pages)
    # Scanned signature pages were read by Tesseract; what it missed, other readings of
    # the same pages may still hold: the scanner's own text layer (a date stamp, a typed
    # name) and the line engine's (`lines.py`: a name under a signature, handwritten
    # digits). Each is a second opinion read at a lower base confidence
    # (`signatures.SCANNER_LAYER`, `signatures.LINE_OCR`): an agency name from it is a
    # candidate unless another reading or the rest of the MOA confirms it.
    agencies, ices = [(OCR, agency)], [(OCR, ice)]
    for method, words_of in _SECOND_READINGS:
        if not any(words_of(p) for p in pages):
            continue
        other = [replace(p, words=words_of(p), method=method) if words_of(p) else p
                 for p in pages]  # fmt: skip
        other_agency, other_ice, _ = read_signatories(other)
        agencies.append((method, other_agency))
        ices.append((method, other_ice))
    agency, ice = _merged(agencies), _merged(ices)
    agency.name = _confirmed_in_place(agency.name, pages)
    ice.name = _confirmed_in_place(ice.name, pages)
    agency.signed_on, ice.signed_on = consistent_dates(agency.signed_on, ice.signed_on)
    result = Extraction(
        agency_signatory=agency,
        ice_signatory=ice,
        points_of_contact=points_of_contact(pages),
        program_model=program_model(pages),
        signature_page=page,
    )
    result.signed_on = signing_date(agency.signed_on, ice.signed_on)
    return result


def _merged(readings: Sequence[tuple[str, Signatory]]) -> Signatory:
    """The first reading, each part it has not published taken from the first other
    reading that has (a part it has not read at all, from one that has a candidate).
    A name no reading publishes is published when two readings (say Tesseract's and the
    line engine's) read it alike: two engines seldom misread a signature as one name."""
    (_, signatory), others = readings[0], readings[1:]
    if not any(s.name.published for _, s in readings):
        # What each reading read as the name: a name, or the text that failed the checks
        # (`Steve id den`, a scanner's layer over a signature), which can still confirm.
        read = [(method, s.name, s.name.value or s.name.raw) for method, s in readings]
        for (first, name, text), (second, again, seen) in combinations(read, 2):
            if not (text and seen and (name.value or again.value) and alike(text, seen)):
                continue
            named = [v for v in (name, again) if v.value]
            if len(named) == 1 and _saw_more(named[0].value, text, seen):
                continue  # the other reading saw letters the name lacks: it may be cut short
            # Spelt as the reading with more letters: what a signature hides is lost,
            # seldom added (`Eddie Joe Ite` beside `Eddie Joe White`); the earlier
            # reading when they are as long.
            fuller = max(named, key=lambda v: len(letters(v.value or "")))
            confidence = max(name.confidence or 0.0, again.confidence or 0.0, CORROBORATED)
            method = f"{name.method}+{second}" if fuller is name else f"{again.method}+{first}"
            signatory.name = replace(fuller, confidence=confidence, method=method, reason=None)
            break
    for _, other in others:
        for part in ("name", "title", "agency", "signed_on"):
            mine, theirs = getattr(signatory, part), getattr(other, part)
            if (not mine.published and theirs.published) or (mine.value is None and theirs.value):
                setattr(signatory, part, theirs)  # a fact, or at least a candidate
    signatory.name = _fuller_spelling(signatory.name, readings)
    return signatory


def _confirmed_in_place(name: Value, pages: Sequence[PageRead]) -> Value:
    """A candidate name another reading of its page reads alike in the same place (the
    words whose centres lie in its box, widened by half a line): two engines reading
    the same spot the same way (`Steve Whidden` beside a scanner's `Steve id den`)."""
    if name.published or not name.value or name.box is None or name.page is None:
        return name
    x0, y0, x1, y1 = name.box
    pad = (y1 - y0) / 2
    page = next((p for p in pages if p.number == name.page), None)
    if page is None:
        return name
    readings = [(OCR, page.words), *((method, of(page)) for method, of in _SECOND_READINGS)]
    for method, words in readings:
        there = [
            w.text
            for w in words
            if x0 - 2 * pad <= (w.x0 + w.x1) / 2 <= x1 + 2 * pad and y0 - pad <= w.yc <= y1 + pad
        ]
        text = " ".join(there)  # (the name's own reading reads the same letters: not a second)
        if (
            text
            and letters(text) != letters(name.value)
            and alike(name.value, text)
            and not _saw_more(name.value, text)
        ):
            confidence = max(name.confidence or 0.0, CORROBORATED)
            return replace(
                name, confidence=confidence, method=f"{name.method}+{method}", reason=None
            )
    return name


def _saw_more(value: str | None, *texts: str | None) -> bool:
    """Whether one of `texts` holds more letters than the name `value`: a reading that
    saw `J6hnGrossnickle` does not confirm `Jn Grossnickle`, it shows letters lost."""
    return any(len(letters(t or "")) > len(letters(value or "")) for t in texts)


def _fuller_spelling(name: Value, readings: Sequence[tuple[str, Signatory]]) -> Value:
    """A published name another reading reads alike with letters it lost (`Ravis
    Daugherty`, the T under a signature; another reading `TRAVIS DAUGHERTY`), spelt as
    that reading does: only when every letter read is in the fuller reading, in order."""
    if not name.published or not name.value:
        return name
    read = letters(name.value)
    for method, other in readings:
        fuller = other.name.value
        if (
            fuller
            and len(letters(fuller)) > len(read)
            and alike(name.value, fuller)
            and _subsequence(read, letters(fuller))
        ):
            spelt = proper_case(fuller)
            return replace(name, value=spelt, method=f"{name.method}+{method}")
    return name


def _subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(char in rest for char in short)


def consistent_dates(agency: Value, ice: Value) -> tuple[Value, Value]:
    """The two parties' dates, the less confident one a candidate when they cannot both
    be right: the agency signs first and ICE within months (every labelled MOA: 0–135
    days), so an agency date more than `DATE_AFTER_ICE` days after ICE's, or more than
    `DATE_BEFORE_ICE` days before it, is a misread (OCR's `2020` for a handwritten `2025`)."""
    if not (agency.published and ice.published and agency.value and ice.value):
        return agency, ice
    gap = (dt.date.fromisoformat(ice.value) - dt.date.fromisoformat(agency.value)).days
    if -DATE_AFTER_ICE <= gap <= DATE_BEFORE_ICE:
        return agency, ice
    reason = f"the parties' dates are {abs(gap)} days apart: a candidate, not published"
    if (agency.confidence or 0.0) <= (ice.confidence or 0.0):
        return agency.demoted(reason), ice
    return agency, ice.demoted(reason)


def signing_date(agency: Value, ice: Value) -> Value:
    """The MOA takes effect when both parties have signed: the later of the two dates.
    With one date read, that date, at a lower confidence."""
    known = [v for v in (agency, ice) if v.value is not None]
    if any(v.published for v in known):
        known = [v for v in known if v.published]  # a candidate never moves a fact
    if len(known) == 2:
        later = max(known, key=lambda v: v.value or "")
        confidence = min(v.confidence or 0 for v in known)
        return Value(later.value, later.page, "later-of-both", confidence, box=later.box)
    if any(v is ice for v in known):
        return Value(
            ice.value,
            ice.page,
            "ice-date",
            round((ice.confidence or 0) * 0.9, 3),
            reason="the agency's date could not be read",
            box=ice.box,
        )
    if any(v is agency for v in known):
        return Value.missing(
            "only the agency's date could be read; ICE signs last", agency.page, agency.value
        )
    return Value.missing("neither party's date could be read")
