"""The signature block: who signed for the agency and for ICE, with what title, when.

The block follows "By signing this MOA …" and has two columns, one per party. Recent
MOAs are forms (`Date:`, `Signature:`, `Name:`, `Title:`, `Agency:`) filled by typing,
stamping or handwriting; older ones print the name, title and office under a signature
line. Both are read from word positions, so the same code serves the text layer and OCR.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from open287g.loaders.moas.blocks import name_near_title, printed_block
from open287g.loaders.moas.corroborate import (
    CORROBORATED,
    body_names,
    corroborating,
    names_in_window,
    same_person,
)
from open287g.loaders.moas.fields import (
    KNOWN_ICE_OFFICIALS,
    PUBLISH_CONFIDENCE,
    PUBLISH_NAME_CONFIDENCE,
    Signatory,
    Value,
    find_title,
    looks_like_name,
    parse_date,
    proper_case,
    repaired_date,
    tidy_name,
)
from open287g.loaders.moas.form import (
    Column,
    Found,
    clean,
    form_values,
    label_of,
    letters_of,
    split_columns,
)
from open287g.loaders.moas.layout import group_lines
from open287g.loaders.moas.read import OCR, PageRead

_PARAGRAPH_END = re.compile(r"extent\s*allowed\s*by\s*law", re.IGNORECASE)
_DIGITAL = re.compile(
    r"Digitally\s*signed\s*by:?\s*(?P<name>.+?)\s*(?=DN:|Date:|Reason:|Location:|$)",
    re.IGNORECASE,
)
_CN = re.compile(r"cn\s*=\s*(?P<name>[^,=]+?)\s*,", re.IGNORECASE)
_STAMP_NOISE = re.compile(
    r"(Digitally\s*signed\s*by:?|DN:.*|Date:\s*20\d\d[.\-]\S*.*|Reason:.*|Location:.*|"
    r"email=\S*|\b[ocu]{1,2}=\S*|-0\d'00'|\d\d:\d\d:\d\d)",
    re.IGNORECASE,
)
_TITLE_START = re.compile(
    r"^(Acting\s+|Interim\s+|Deputy\s+|High\s+|Chief\s+)?"
    r"(Sheriff|Chief|Director|Executive|Assistant|Secretary|Commissioner|Colonel|Constable|"
    r"Marshal|Mayor|Jailer|Warden|Attorney|Superintendent|Undersheriff|Administrator|"
    r"Commander|President|Adjutant|Manager|City|Town|Captain|Major|Lieutenant|Police)",
    re.IGNORECASE,
)
# A date read only once OCR's misreadings of handwriting are undone (`fields.repaired_date`).
_REPAIRED = 0.9
# A name found only by being near a title (no label, no printed block) is less certain.
_NEAR_TITLE = 0.85
# What OCR reads on the signature line itself is most often the handwriting: a name there
# is a candidate unless the rest of the MOA names the same person.
_ON_SIGNATURE = 0.85
_ICE_DEFAULT_AGENCY = "U.S. Immigration and Customs Enforcement"


# A scanned page's own OCR layer (a scanner's, no word confidences), read as a second
# opinion: below the agency-name gate, above the one for other values.
SCANNER_LAYER = "scanner-layer"
# A signature page as the line engine reads it (`lines.py`), also a second opinion: its
# English sometimes loses a space, and it reads some signatures as words.
LINE_OCR = "line-ocr"


def _base(page: PageRead) -> float:
    if page.method in (SCANNER_LAYER, LINE_OCR):
        return 0.9
    return 0.95 if page.method != OCR else 0.97


def _dedupe(text: str) -> str:
    """`Sarah Sarah M. M. Coursey`, `Mark J. Mark J. Schneider` (a signature stamp drawn
    over the typed name) → the name once."""
    tokens = text.split()
    for size in range(len(tokens) // 2, 1, -1):
        for start in range(len(tokens) - 2 * size + 1):
            if tokens[start : start + size] == tokens[start + size : start + 2 * size]:
                tokens = tokens[: start + size] + tokens[start + 2 * size :]
                return _dedupe(" ".join(tokens))
    out: list[str] = []
    for token in tokens:
        if not out or out[-1] != token:
            out.append(token)
    return " ".join(out)


def _name_value(found: Found, base: float, threshold: float = PUBLISH_NAME_CONFIDENCE) -> Value:
    text = _dedupe(tidy_name(_STAMP_NOISE.sub(" ", found.text)))
    text = re.sub(r"^(Sheriff|Chief|Director|Name)\s*[:.]?\s+", "", text, flags=re.IGNORECASE)
    text = _misread_title_dropped(text)
    if re.match(r"^[A-Z] \S+ \S+", text):
        text = text[2:]  # a label's stray letter ("N ame" split by OCR) before the name
    confidence = found.confidence(base)
    if not looks_like_name(text):
        return Value.missing("not a printed name", found.page, found.text)
    return _kept(proper_case(text), found, confidence, threshold=threshold)


def _misread_title_dropped(text: str) -> str:
    """`Sherilf Billy Woods` → `Billy Woods`: a title before the name, as OCR spells it."""
    first, _, rest = text.partition(" ")
    if len(rest.split()) < 2:
        return text
    for title in ("sheriff", "chief", "director", "colonel", "constable"):
        if difflib.SequenceMatcher(None, letters_of(first), title).ratio() >= 0.75:
            return rest
    return text


def _kept(
    text: str,
    found: Found,
    confidence: float,
    raw: str | None = None,
    threshold: float = PUBLISH_CONFIDENCE,
) -> Value:
    """A value that passed its checks, with its evidence; a candidate when unsure."""
    reason = None
    if confidence < threshold:
        reason = f"low confidence {confidence:.2f}: a candidate, not published"
    return Value(text, found.page, found.method, confidence, reason, raw, found.box, threshold)


def _title_value(found: Found, base: float) -> Value:
    text = clean(_STAMP_NOISE.sub(" ", found.text))
    confidence = found.confidence(base)
    if find_title(text) is None:
        squeezed = letters_of(text)
        match = find_title(" ".join(_expand(squeezed)))
        if match is None:
            return Value.missing("not a recognised title", found.page, found.text)
        text = match
        confidence = round(confidence * 0.9, 3)
    if len(text) > 80:
        return Value.missing("title too long to be one", found.page, found.text)
    return _kept(text, found, confidence)


def _expand(squeezed: str) -> list[str]:
    """`chiefofpolice` → the title it spells, when it spells one exactly."""
    from open287g.loaders.moas.fields import TITLE_WORDS

    for title in sorted(TITLE_WORDS, key=len, reverse=True):
        if squeezed == letters_of(title):
            return [title]
    return [squeezed]


def _date_value(found: Found, base: float) -> Value:
    date, reason = parse_date(found.text)
    if date is None and found.after and not (reason or "").startswith("implausible"):
        date, reason = parse_date(re.sub(r"[^\w,/.\-\s]", " ", f"{found.text} {found.after}"))
    if date is None and reason == "no date could be read":
        # A handwritten date OCR misread in its usual ways (`O3/ob/2o25`): a guess, read
        # at a lower confidence.
        date, _ = parse_date(repaired_date(found.text))
        base *= _REPAIRED
    if date is None:
        return Value.missing(reason or "no date", found.page, found.text)
    return _kept(date.isoformat(), found, found.confidence(base), raw=found.text)


def _digital(column: Column) -> tuple[Found | None, Found | None]:
    """Name and date of a digital-signature stamp (`Digitally signed by …`, `DN: cn=…`)."""
    text = " ".join(column.text.split())
    name = date = None
    page = column.page.number
    if (match := _CN.search(text)) or (match := _DIGITAL.search(text)):
        name = Found(match.group("name"), [], page, "digital-signature")
    if name is not None and (stamp := re.search(r"Date:\s*(20\d\d\.\d\d\.\d\d)", text)):
        date = Found(stamp.group(1), [], page, "digital-signature")
    return name, date


def read_column(column: Column, known: Sequence[str] = ()) -> Signatory:
    """One party's signatory from its column of the signature block; `known` names the
    people the rest of the MOA introduces (or ICE's known officials), which corroborate
    a name read here (`corroborate.py`)."""
    base = _base(column.page)
    found = form_values(column)
    signatory = Signatory()
    heading = _heading_name(column)
    digital_name, digital_date = _digital(column)
    start = 0
    if "date" in found:
        start = next((i for i, line in enumerate(column.lines) if label_of(line)), 0)
    block_name, block_title, block_office, factor = (None, None, None, 1.0)
    if "name" not in found and "title" not in found:
        block_name, block_title, block_office, factor = printed_block(column, start)

    names = [found.get("name"), heading, block_name, digital_name, found.get("signature")]
    # The agency's signatory may become its official: the stricter gate chosen for names;
    # a name only the line engine read (a second opinion) needs the same confirmation.
    strict = column.role == "agency" or column.page.method == LINE_OCR
    gate = PUBLISH_NAME_CONFIDENCE if strict else PUBLISH_CONFIDENCE
    factors = {id(block_name): factor, id(found.get("signature")): _ON_SIGNATURE}
    values = [_name_value(f, base * factors.get(id(f), 1.0), gate) for f in names if f]
    if column.role == "ice":
        values = [_known_ice_official(f, base) for f in names if f is not None] + values
    if not any(v.published for v in values) and (near := name_near_title(column)):
        values.append(_name_value(near, base * _NEAR_TITLE, gate))
        if column.role == "ice":
            values.insert(0, _known_ice_official(near, base * _NEAR_TITLE))
    if known and not any(v.published for v in values):
        values = _corroborated(values, column, known, gate) + values
    elif column.role == "ice":  # `Timothy S. Robbin`, published: the official's spelling
        values = [_respelt(v, known) for v in values]
    signatory.name = _first(values, "no printed name")
    titles = [found.get("title"), block_title]
    signatory.title = _first([_title_value(f, base) for f in titles if f is not None], "no title")
    agency = found.get("agency") or block_office
    if agency is not None:
        signatory.agency = _kept(agency.text, agency, agency.confidence(base))
    dates = [found.get("date"), digital_date]
    signatory.signed_on = _first([_date_value(f, base) for f in dates if f is not None], "no date")
    return signatory


def _corroborated(
    values: Sequence[Value], column: Column, known: Sequence[str], gate: float
) -> list[Value]:
    """Names of the column the rest of the MOA confirms: each value read (published or
    not), then any line of the column that holds a name and nothing else; spelled as the
    body spells it when they differ (the signature block is what OCR misreads)."""
    out: list[Value] = []
    seen = [(v.value or v.raw or "", v) for v in values if v.value or v.raw]
    for line in column.lines:
        label = label_of(line)
        words = line.words[label[1] :] if label else line.words
        text = clean(_STAMP_NOISE.sub(" ", " ".join(w.text for w in words)))
        found = Found(text, list(words), column.page.number, "column")
        bare = re.sub(_TITLE_START, "", text).strip()
        confidence = found.confidence(_base(column.page))
        names = names_in_window(text)
        for name in names:
            # A line of its own: `Lake Clarke` in `Lake Clarke Shores Police` is a place.
            if letters_of(name) == letters_of(bare):
                seen.append((name, _kept(name, found, confidence)))
        if not names and 1 <= len(bare.split()) <= 3 and not re.search(r"\d", bare):
            # A name whose spaces OCR lost or hyphenated (`Chrie-West`): the letters of
            # the line alone, which only a known name can confirm.
            unread = Value(None, found.page, "column", confidence, None, bare, found.box)
            seen.append((bare, unread))
    for read, value in seen:
        match = corroborating(read, known)
        if match is None:
            continue
        name = value.value if value.value and same_person(value.value, match) else match
        method = f"{value.method or 'column'}+corroborated"
        confidence = max(value.confidence or 0.0, CORROBORATED)
        out.append(Value(name, value.page, method, confidence, None, read, value.box, gate))
    return out


def _respelt(value: Value, known: Sequence[str]) -> Value:
    """A published name that is one of `known` cut short (`Timothy S. Robbin`, OCR losing
    the end of a line), spelled as `known` spells it; a name printed otherwise is kept."""
    match = corroborating(value.value, known) if value.published and value.value else None
    if match is None and value.published and value.value:
        match = _completed(value.value, known)
    read = letters_of((value.value or "-").split()[-1])
    if match is None or not letters_of(match.split()[-1]).startswith(read):
        return value
    if letters_of(match) == letters_of(value.value or ""):
        return value
    method = f"{value.method}+corroborated"
    return Value(match, value.page, method, value.confidence, None, value.value, value.box)


def _completed(read: str, known: Sequence[str]) -> str | None:
    """The known name that `read` is with its surname cut short (`Todd M. Ly`): every
    token before the surname the same, the surname read from its start (2 letters on)."""
    tokens = [letters_of(t) for t in read.split()]
    if len(tokens) < 3 or len(tokens[-1]) < 2:
        return None
    for name in known:
        parts = [letters_of(t) for t in name.split()]
        if parts[:-1] == tokens[:-1] and parts[-1].startswith(tokens[-1]):
            return name
    return None


def _known_ice_official(found: Found, base: float) -> Value:
    """An ICE signatory's name read partly (`T Lyons`, `Todd Lyons`), completed from the
    list of ICE officials who sign MOAs when the surname is read exactly and the first
    initial agrees; anything less stays unread."""
    tokens = [t for t in re.split(r"[\s.,]+", _STAMP_NOISE.sub(" ", found.text)) if t]
    if len(tokens) < 2:
        return Value.missing("not a known ICE official", found.page, found.text)
    for official in KNOWN_ICE_OFFICIALS:
        parts = official.replace(".", " ").split()
        surname, initial = parts[-1].lower(), parts[0][0].lower()
        if tokens[-1].lower() == surname and tokens[0][0].lower() == initial:
            exact = tidy_name(_STAMP_NOISE.sub(" ", found.text)) == official
            confidence = round(found.confidence(base) * (1 if exact else 0.95), 3)
            if confidence < PUBLISH_CONFIDENCE:
                break
            method = found.method if exact else f"{found.method}+known-official"
            return Value(official, found.page, method, confidence, raw=found.text, box=found.box)
    return Value.missing("not a known ICE official", found.page, found.text)


def _first(values: Sequence[Value], reason: str) -> Value:
    """The first published value, else the first candidate, else the first reason."""
    for value in values:
        if value.published:
            return value
    for value in values:
        if value.value is not None:
            return value
    for value in values:
        if value.reason != "not a known ICE official":
            return value
    return values[0] if values else Value.missing(reason)


def _heading_name(column: Column) -> Found | None:
    """`For the LEA: David E. Vincent` / `For ICE: Caleb Vitello`."""
    for line in column.lines[:3]:
        text = line.text
        match = re.match(r"^For\s*(the\s*LEA|ICE)\s*:?\s*(?P<rest>.+)$", text, re.IGNORECASE)
        if match and clean(match.group("rest")):
            words = [w for w in line.words if not re.match(r"^(For|the|LEA:?|ICE:?)$", w.text)]
            return Found(clean(match.group("rest")), words, column.page.number, "heading")
    return None


def signature_columns(pages: Sequence[PageRead]) -> list[Column]:
    """Columns of the signature block: on the page that ends "By signing this MOA …"
    (below that paragraph) and, when the block runs over, the next page."""
    columns: list[Column] = []
    for index, page in enumerate(pages):
        text = " ".join(page.text.split())
        if not re.search(r"By\s*signing\s*this\s*MOA", text, re.IGNORECASE):
            continue
        top = 0.0
        for line in group_lines(page.words):
            if _PARAGRAPH_END.search(line.text) or re.search(r"By signing", line.text):
                top = line.y1
        columns = split_columns(page, top)
        if index + 1 < len(pages) and sum(len(c.lines) for c in columns) < 4:
            columns += split_columns(pages[index + 1], 0.0)
    return columns


def read_signatories(pages: Sequence[PageRead]) -> tuple[Signatory, Signatory, int | None]:
    """(agency signatory, ICE signatory, signature page)."""
    columns = signature_columns(pages)
    agency, ice = Signatory(), Signatory()
    page = columns[0].page.number if columns else None
    if not columns:
        reason = "no signature block found"
        for signatory in (agency, ice):
            for name in ("name", "title", "agency", "signed_on"):
                setattr(signatory, name, Value.missing(reason))
        return agency, ice, None
    people = body_names(pages, skip={c.page.number for c in columns})
    for column in columns:
        if column.role == "agency":
            agency = _better(agency, read_column(column, people))
        elif column.role == "ice":
            ice = _better(ice, read_column(column, KNOWN_ICE_OFFICIALS))
    if ice.agency.value is None and ice.name.value is not None:
        ice.agency = Value(_ICE_DEFAULT_AGENCY, ice.name.page, "implied", 1.0)
    return agency, ice, page


def _better(current: Signatory, new: Signatory) -> Signatory:
    def score(s: Signatory) -> int:
        return sum(v.value is not None for v in (s.name, s.title, s.signed_on, s.agency))

    return new if score(new) > score(current) else current
