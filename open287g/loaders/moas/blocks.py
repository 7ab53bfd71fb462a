"""Printed signature blocks: under the signature line, a name, then the title, then the
office (`Tommy Ford` / `Sheriff, Bay County` / `Bay County Sheriff's Office`).

The block is found from positions, not from a file's wording: in a column of the
signature page, the title line is the one that starts with a title (read letter by letter,
so OCR's `S h eriff·:` is still Sheriff); the name is the nearest line above it, within a
few line heights, holding a run of name-shaped words (OCR's stray marks of the signature
around it are dropped). Without a readable title, a name-shaped line directly above the
office line is taken at a lower confidence.
"""

from __future__ import annotations

import re

from open287g.loaders.moas.fields import TITLE_WORDS, looks_like_name, proper_case, tidy_name
from open287g.loaders.moas.form import Column, Found, clean, label_of, letters_of
from open287g.loaders.moas.layout import Line

_PREFIXES = ("Acting ", "Interim ", "Deputy ", "High ", "")
# Titles a signatory line starts with, as letters only, longest first.
_SQUEEZED = sorted(
    ((letters_of(p + t), p + t) for t in TITLE_WORDS for p in _PREFIXES),
    key=lambda kv: -len(kv[0]),
)
_OFFICE = re.compile(
    r"\b(County|Office|Department|Dept|Police|Sheriff'?s?|Jail|Corrections|Detention|"
    r"Bureau|Authority|Division|Patrol|Commission)\b",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^(?:[A-Z]\.?(?:[A-Z]\.)*|[A-Z][A-Za-z'’\-]+\.?|\"[A-Z][a-z]+\"|,)$")
_TITLE_AHEAD = re.compile(r"^(Sheriff|Chief|Director|Major|Colonel|Captain)\s+", re.IGNORECASE)
_NOISE_CHARS = re.compile(r"[^A-Za-z0-9,.'’\-\s&]")
# How far above its title a signatory's name may be, in line heights.
_NAME_REACH = 3.5


def read_title(text: str) -> str | None:
    """The title a line starts with, in its usual spelling, with what follows it
    (`Sheriff, Bay County`); None when the line does not start with a title."""
    text = re.sub(r"\s+", " ", _NOISE_CHARS.sub(" ", text)).strip(" ,.-")
    letters = letters_of(text)
    for squeezed, title in _SQUEEZED:
        if not letters.startswith(squeezed):
            continue
        if len(letters) > len(squeezed) and text.lower().startswith(title.lower()):
            rest = text[len(title) :]
            if rest and rest[0].isalpha():
                continue  # "Chiefs …", "Directorate": another word
        consumed, position = 0, 0
        while consumed < len(squeezed) and position < len(text):
            consumed += bool(letters_of(text[position]))
            position += 1
        rest = text[position:].strip(" ,.:;-")
        return f"{title}, {rest}" if rest else title
    return None


def name_in(text: str) -> str | None:
    """The longest run of name-shaped words in a line that reads as a person's name
    (`sy 74 Timothy S. Robbins` → `Timothy S. Robbins`)."""
    text = re.sub(r"[\"“”]\w+[\"“”]", " ", text)  # a nickname: William O. "Bill" Farmer
    text = _TITLE_AHEAD.sub("", tidy_name(text))
    tokens = [t for t in re.split(r"\s+", text.replace(",", " , ")) if t]
    best: str | None = None
    for start in range(len(tokens)):
        for end in range(len(tokens), start, -1):
            run = tokens[start:end]
            if not all(_NAME_WORD.match(t) for t in run) or run[0] == ",":
                continue
            candidate = proper_case(tidy_name(" ".join(run).replace(" ,", ",")))
            if looks_like_name(candidate) and (best is None or len(candidate) > len(best)):
                best = candidate
            break
    return best


def _is_office(line: Line) -> bool:
    return bool(_OFFICE.search(line.text)) and read_title(line.text) is None


def printed_block(
    column: Column, start: int
) -> tuple[Found | None, Found | None, Found | None, float]:
    """(name, title, office, confidence factor) of the printed block in `column` from line
    `start` on; the factor is below 1 when the block was found without its title."""
    lines = column.lines[start:]
    page = column.page.number
    for i, line in enumerate(lines):
        text = clean(line.text)
        title = read_title(text)
        if title is None or len(text) > 70 or label_of(line) is not None:
            continue
        name = _name_above(lines, i, page)
        office = None
        if i + 1 < len(lines) and _is_office(lines[i + 1]):
            office = Found(
                clean(lines[i + 1].text), list(lines[i + 1].words), page, "printed-block"
            )
        elif "," in title:
            office = Found(title.split(",", 1)[1].strip(), list(line.words), page, "printed-block")
        return name, Found(title, list(line.words), page, "printed-block"), office, 1.0
    for i, line in enumerate(lines):
        if i and _is_office(line):
            name = _name_above(lines, i, page, reach=1.8)
            if name is not None:
                office = Found(clean(line.text), list(line.words), page, "printed-block")
                return name, None, office, 0.8
    return None, None, None, 1.0


def _name_above(
    lines: list[Line], index: int, page: int, reach: float = _NAME_REACH
) -> Found | None:
    below = lines[index]
    height = max(w.height for w in below.words)
    for above in reversed(lines[max(0, index - 3) : index]):
        if below.y0 - above.y1 > reach * height:
            break
        if label_of(above) is not None:
            break
        name = name_in(clean(above.text))
        if name is not None:
            words = [w for w in above.words if w.text.strip(",.") and w.text.strip(",.") in name]
            return Found(name, words or list(above.words), page, "printed-block")
    return None


def name_near_title(column: Column) -> Found | None:
    """A name-shaped line of the column just above a title line or `Title:` label (a
    typed name whose `Name:` label OCR lost, `N e:`): the last resort, read at a lower
    confidence by the caller."""
    page = column.page.number
    titles = [
        line.y0
        for line in column.lines
        if read_title(_after_label(line)) is not None or (label_of(line) or ("",))[0] == "title"
    ]
    best: tuple[float, Found] | None = None
    for line in column.lines:
        label = label_of(line)
        if label is not None and label[0] != "name":
            continue
        name = name_in(clean(_after_label(line)))
        if name is None or re.match(r"^\s*For\b", line.text, re.IGNORECASE):
            continue
        height = max(w.height for w in line.words)
        gaps = [y - line.y1 for y in titles if 0 <= y - line.y1 <= _NAME_REACH * height]
        if gaps and (best is None or min(gaps) < best[0]):
            best = (min(gaps), Found(name, list(line.words), page, "near-title"))
    return best[1] if best else None


def _after_label(line: Line) -> str:
    label = label_of(line)
    words = line.words[label[1] :] if label else line.words
    return " ".join(w.text for w in words)
