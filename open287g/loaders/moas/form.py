"""The form of a signature block: its columns, its labels (`Date:`, `Signature:`,
`Name:`, `Title:`, `Agency:`, as typed or as OCR spells them) and the value each label
holds, read from word positions (on the label's line, else just above or below it)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from open287g.loaders.moas.layout import Line, Word, group_lines, is_underline
from open287g.loaders.moas.read import PageRead

ICE_ANCHOR = re.compile(r"^For\s*ICE", re.IGNORECASE)
LEA_ANCHOR = re.compile(r"For\s*the\s*LEA|For\s*the\s*(Department|Agency|Sheriff)", re.IGNORECASE)
LABELS = ("date", "signature", "name", "title", "agency")
_LABEL_WORDS = {"date", "signature", "signatur", "name", "title", "agency"}
_ICE_MARKERS = re.compile(
    r"For\s*ICE|Immigration\s*(and|&)\s*Customs|Enforcement\s*and\s*Removal|Homeland\s*Security"
    r"|Customs\s*Enforcement",
    re.IGNORECASE,
)


@dataclass
class Column:
    role: str | None
    lines: list[Line]
    page: PageRead

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def letters_of(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().replace("1", "i").replace("!", "i"))


def label_of(line: Line) -> tuple[str, int] | None:
    """The form label a line starts with (OCR spellings included: `Signatu,·e`, `T itle`)
    and how many of its words the label takes."""
    for take in (1, 2, 3):
        if take > len(line.words):
            break
        head = line.words[:take]
        text = " ".join(w.text for w in head)
        if ":" in head[-1].text[:-1]:
            text = text.split(":")[0]
        letters = letters_of(text)
        if not 3 <= len(letters) <= 11:
            continue
        for label in LABELS:
            size = len(label)
            if abs(len(letters) - size) > 2:
                continue
            if difflib.SequenceMatcher(None, letters, label).ratio() >= 0.8:
                return label, take
    return None


def _value_words(line: Line, skip: int) -> list[Word]:
    words = list(line.words[skip:])
    if skip and ":" in line.words[skip - 1].text[:-1]:
        rest = line.words[skip - 1].text.split(":", 1)[1]
        first = line.words[skip - 1]
        words.insert(0, Word(rest, first.x0, first.y0, first.x1, first.y1, first.conf))
    return [w for w in words if not is_underline(w.text)]


def clean(text: str) -> str:
    text = text.replace("_", " ")
    return re.sub(r"\s+", " ", text).strip(" :;,.-~|")


@dataclass
class Found:
    text: str
    words: list[Word]
    page: int
    method: str
    after: str = ""  # the next line's text: a date's year is sometimes on its own line

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """Where on the page the value was read (the union of its words' boxes)."""
        if not self.words:
            return None
        return (
            round(min(w.x0 for w in self.words), 1),
            round(min(w.y0 for w in self.words), 1),
            round(max(w.x1 for w in self.words), 1),
            round(max(w.y1 for w in self.words), 1),
        )

    def confidence(self, base: float) -> float:
        known = [w.conf for w in self.words if w.conf is not None]
        if not known:
            return base
        return round(base * sum(known) / len(known) / 100, 3)


def _following(lines: Sequence[Line], labels: dict[int, tuple[str, int] | None], start: int) -> str:
    """The text of up to two lines from `start`, stopping at a label."""
    texts = []
    for k in range(start, min(start + 2, len(lines))):
        if labels.get(k) is not None:
            break
        texts.append(clean(lines[k].text))
    return " ".join(t for t in texts if t)


def form_values(column: Column) -> dict[str, Found]:
    """Each label's value: on its line after it, else the closest line just above it
    (values are typed on the rule), else just below, never crossing another label."""
    lines = column.lines
    labels = {i: label_of(line) for i, line in enumerate(lines)}
    used: set[int] = {
        i
        for i, lab in labels.items()
        if lab is not None or LEA_ANCHOR.match(lines[i].text) or ICE_ANCHOR.match(lines[i].text)
    }
    found: dict[str, Found] = {}
    for i, lab in labels.items():
        if lab is None or lab[0] in found:
            continue
        label, take = lab
        line = lines[i]
        words = _value_words(line, take)
        after = _following(lines, labels, i + 1)
        if words and clean(" ".join(w.text for w in words)):
            found[label] = Found(clean(" ".join(w.text for w in words)), words, 0, "form", after)
            continue
        height = max(w.height for w in line.words)
        for j in (i - 1, i + 1, i - 2):
            if j < 0 or j >= len(lines) or j in used:
                continue
            other = lines[j]
            gap = line.y0 - other.y1 if j < i else other.y0 - line.y1
            if gap > (1.2 if j < i else 0.6) * height:
                continue
            words = [w for w in other.words if not is_underline(w.text)]
            text = clean(" ".join(w.text for w in words))
            if text:
                used.add(j)
                after = _following(lines, labels, j + 1) if j + 1 != i else ""
                found[label] = Found(text, words, 0, "form", after)
                break
    for item in found.values():
        item.page = column.page.number
    return found


def split_columns(page: PageRead, top: float) -> list[Column]:
    """The words below `top`, split into a left and a right column at the start of the
    right party's heading (or of its labels), else at the middle of the page."""
    words = [w for w in page.words if w.y0 >= top]
    if not words:
        return []
    split = page.width / 2 - 10
    for line in group_lines(words):
        for i, word in enumerate(line.words):
            rest = " ".join(w.text for w in line.words[i : i + 3])
            anchor = ICE_ANCHOR.match(rest) or LEA_ANCHOR.match(rest)
            if i > 0 and anchor and word.x0 > page.width * 0.3:
                split = word.x0 - 4
                break
    split = min([split, *_second_labels(words, page.width)])
    left = [w for w in words if w.x0 < split]
    right = [w for w in words if w.x0 >= split]
    columns = [Column(None, group_lines(ws), page) for ws in (left, right) if ws]
    _assign_roles(columns)
    return columns


def _second_labels(words: Sequence[Word], width: float) -> list[float]:
    """Where the right party's form starts when its labels stand left of its heading
    (`Date: 01/30/2025   Date: 01/31/2025`): the label a line starts with, again in its
    right part (a stamp's own `Date:` is not a form label)."""
    starts = []
    for line in group_lines(words):
        first = label_of(line)
        if first is None:
            continue
        for word in line.words[1:]:
            label = letters_of(word.text)
            if word.x0 > width * 0.3 and label.startswith(first[0][:8]) and label in _LABEL_WORDS:
                starts.append(word.x0 - 4)
                break
    return starts


def _assign_roles(columns: list[Column]) -> None:
    for column in columns:
        head = "\n".join(line.text for line in column.lines[:4])
        if LEA_ANCHOR.search(head):
            column.role = "agency"
        elif ICE_ANCHOR.search(head.strip()) or re.search(r"For\s*ICE", head):
            column.role = "ice"
    if len(columns) == 2 and all(c.role is None for c in columns):
        scores = [len(_ICE_MARKERS.findall(c.text)) for c in columns]
        if scores[0] != scores[1]:
            ice = 0 if scores[0] > scores[1] else 1
            columns[ice].role, columns[1 - ice].role = "ice", "agency"
    elif len(columns) == 2 and sum(c.role is None for c in columns) == 1:
        known = next(c for c in columns if c.role is not None)
        other = next(c for c in columns if c.role is None)
        other.role = "agency" if known.role == "ice" else "ice"
