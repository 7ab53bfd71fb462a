"""Facts of an MOA as data with evidence: signatories, points of contact, program model,
signing date (`fields.Extraction`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from open287g.db.models.enums import ProgramModelCode
from open287g.loaders.moas.fields import Extraction, Value
from open287g.loaders.moas.layout import is_underline
from open287g.loaders.moas.read import OCR, PageRead
from open287g.loaders.moas.signatures import read_signatories

# The version of what reads an MOA (text, OCR, extraction). Each document records the
# version that read it; `open287g load moas` reads again every document an older version
# read. Raise it with any change that may read a document differently.
EXTRACTOR_VERSION = 1

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
_POC_HEADING = re.compile(r"POINTS\s+OF\s+CONTACT", re.IGNORECASE)
_POC_PUBLIC = re.compile(r"PUBLIC\s+INFORMATION", re.IGNORECASE)
_FOR_LEA = re.compile(r"^\s*For\s+(the\s+)?(?!ICE\b)(?P<who>[^:]{2,80}):\s*(?P<rest>.*)$", re.I)
_FOR_ICE = re.compile(r"^\s*For\s+ICE\s*:", re.IGNORECASE)
_POC_END = re.compile(r"^\s*(APPENDIX|Revised\s+\d|Rev\s+\d|\d+\s*$)", re.IGNORECASE)


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
    """The agency's lines of Appendix A ("POINTS OF CONTACT", not the public-information
    one): each line as written, form rules removed."""
    for page in pages:
        if not _POC_HEADING.search(page.text) or _POC_PUBLIC.search(page.text[:400]):
            continue
        values: list[Value] = []
        taking = False
        for raw in page.text.splitlines():
            line = " ".join(w for w in raw.split() if not is_underline(w))
            if _FOR_ICE.match(raw):
                taking = False
                continue
            match = _FOR_LEA.match(line)
            if match and not _POC_HEADING.search(line):
                taking = True
                line = match.group("rest").strip()
            elif taking and _POC_END.match(line):
                break
            if taking and line and not is_underline(line):
                base = 0.9 if page.method != OCR else (page.confidence or 0.0) * 0.9
                values.append(Value(line, page.number, "appendix-a", round(base, 3)))
        if values:
            return values[:12]
    return []


def extract(pages: Sequence[PageRead]) -> Extraction:
    agency, ice, page = read_signatories(pages)
    result = Extraction(
        agency_signatory=agency,
        ice_signatory=ice,
        points_of_contact=points_of_contact(pages),
        program_model=program_model(pages),
        signature_page=page,
    )
    result.signed_on = signing_date(agency.signed_on, ice.signed_on)
    return result


def signing_date(agency: Value, ice: Value) -> Value:
    """The MOA takes effect when both parties have signed: the later of the two dates.
    With one date read, that date, at a lower confidence."""
    known = [v for v in (agency, ice) if v.value is not None]
    if len(known) == 2:
        later = max(known, key=lambda v: v.value or "")
        confidence = min(v.confidence or 0 for v in known)
        return Value(later.value, later.page, "later-of-both", confidence, box=later.box)
    if ice.value is not None:
        return Value(
            ice.value,
            ice.page,
            "ice-date",
            round((ice.confidence or 0) * 0.9, 3),
            reason="the agency's date could not be read",
            box=ice.box,
        )
    if agency.value is not None:
        return Value.missing(
            "only the agency's date could be read; ICE signs last", agency.page, agency.value
        )
    return Value.missing("neither party's date could be read")
