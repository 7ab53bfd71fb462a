"""Words with positions, and the lines and columns they form.

The text layer and OCR both end up as words with a box in PDF points (origin top left),
so the signature-block extractor reads one geometry whatever produced the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_UNDERLINE = re.compile(r"^[_\-–—=~.·,:;'`\"|\s]*$")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    conf: float | None = None  # OCR confidence 0–100; None for a text layer

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass(frozen=True, slots=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def conf(self) -> float | None:
        known = [w.conf for w in self.words if w.conf is not None]
        return min(known) if known else None


def is_underline(text: str) -> bool:
    """Blank-form rules (`______`, `- - -`) and stray punctuation: no value."""
    return bool(_UNDERLINE.match(text))


def group_lines(words: Iterable[Word]) -> list[Line]:
    """Words into lines, top to bottom: a word joins the line whose vertical centre is
    within half a line height of its own, then left to right."""
    lines: list[list[Word]] = []
    centres: list[float] = []
    for word in sorted(words, key=lambda w: (w.yc, w.x0)):
        if lines and abs(word.yc - centres[-1]) <= 0.5 * min(word.height, lines[-1][0].height):
            lines[-1].append(word)
            centres[-1] = sum(w.yc for w in lines[-1]) / len(lines[-1])
            continue
        lines.append([word])
        centres.append(word.yc)
    return [Line(tuple(sorted(ws, key=lambda w: w.x0))) for ws in lines]


def within(words: Sequence[Word], x0: float, x1: float) -> list[Word]:
    """The words whose horizontal centre lies in [x0, x1)."""
    return [w for w in words if x0 <= (w.x0 + w.x1) / 2 < x1]
