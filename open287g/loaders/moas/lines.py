"""A second OCR engine for signature pages: RapidOCR (PP-OCR models run by onnxruntime,
PyPI package `rapidocr-onnxruntime`, which ships its model files inside the wheel: nothing
is downloaded at run time).

Tesseract reads clean print well but loses a typed name that a signature is drawn over,
and handwritten digits. A neural text-line recogniser reads through the ink far more
often (`Benjamin J. Stewart` under a signature on Madison County's 2019 MOA, where
Tesseract reads nothing). Its English text sometimes loses a space (`AssistantDirector`),
so what it reads is a second opinion (`signatures.LINE_OCR`): a name from it is published
only when another reading or the rest of the MOA confirms it.

The engine runs as a child process (`python -m open287g.loaders.moas.lines`), as
Tesseract does: one page image in on stdin, its words out as JSON, under a wall-clock
limit and an address-space limit of its own, so a page it chokes on costs bounded time
and memory and never takes the loader with it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import resource
import sys
from typing import Any

from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.ocr import OcrPage, OcrUnavailable, run_engine

ENGINE = "rapidocr"
# The child's address space: the models and one signature page's feature maps fit
# (about 0.9 GB resident at 300 dpi); a runaway page does not take the machine.
MEMORY_LIMIT = 3 * 1024**3
# The engine reduces a larger image to this many pixels on its longer side (and gives
# boxes in the input's pixels).
MAX_SIDE = 2000


@functools.cache
def engine_version() -> str:
    """`rapidocr 1.4.4`; raises OcrUnavailable when the package is missing."""
    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        raise OcrUnavailable("rapidocr-onnxruntime is not installed")
    from importlib.metadata import version

    return f"{ENGINE} {version('rapidocr-onnxruntime')}"


def _limit_memory() -> None:
    """The child's own cap, set before it loads the engine."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def recognize_lines(
    image: bytes, points_per_pixel: float, *, timeout: float, top: float = 0.0
) -> OcrPage:
    """Words (boxes in PDF points) of a PGM image, read line by line, from `top` (points
    from the top of the page) down: the signature block, not the page of text above it,
    which the engine would read line by line at several times the cost."""
    engine_version()
    image, offset = _below(image, int(top / points_per_pixel))
    page = parse_lines(engine_lines(image, timeout=timeout), points_per_pixel)
    shift = offset * points_per_pixel
    words = [Word(w.text, w.x0, w.y0 + shift, w.x1, w.y1 + shift, w.conf) for w in page.words]
    return OcrPage(words, page.text, page.confidence)


def engine_lines(image: bytes, *, timeout: float) -> list[dict[str, Any]]:
    """What the engine reads in a PGM image: its lines, each with its text, score and one
    box per character (pixels), from the child process."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    command = [sys.executable, "-m", "open287g.loaders.moas.lines"]
    out = run_engine(command, image, timeout=timeout, env=env, name="line OCR")
    lines: list[dict[str, Any]] = json.loads(out)
    return lines


def _below(image: bytes, row: int) -> tuple[bytes, int]:
    """A binary PGM image from pixel row `row` down, and the rows cut off."""
    magic, width, height, depth, pixels = image.split(maxsplit=4)
    w, h = int(width), int(height)
    row = max(0, min(row, h - 1))
    if row == 0:
        return image, 0
    header = b"%s\n%d %d\n%s\n" % (magic, w, h - row, depth)
    return header + pixels[row * w :], row


def parse_lines(lines: list[dict[str, Any]], points_per_pixel: float) -> OcrPage:
    """The engine's lines (text, score, one box per character) as words: characters
    between spaces, each word boxed by its characters' boxes."""
    k = points_per_pixel
    words: list[Word] = []
    texts: list[str] = []
    for line in lines:
        text, score, boxes = str(line["text"]), float(line["score"]), line["boxes"]
        texts.append(text)
        if len(boxes) != len(text):
            continue  # a line without character boxes: its words cannot be placed
        current: list[tuple[str, list[float]]] = []
        chars = [*_spaced(list(zip(text, boxes, strict=True))), (" ", [0.0] * 4)]
        for char, box in chars:
            if not char.isspace():
                current.append((char, [float(v) for v in box]))
                continue
            if current:
                x0 = min(b[0] for _, b in current)
                y0 = min(b[1] for _, b in current)
                x1 = max(b[2] for _, b in current)
                y1 = max(b[3] for _, b in current)
                word = "".join(c for c, _ in current)
                words.append(Word(word, x0 * k, y0 * k, x1 * k, y1 * k, round(score * 100, 1)))
                current = []
    confidence = sum(float(line["score"]) for line in lines) / len(lines) if lines else None
    return OcrPage(words, "\n".join(texts), confidence)


# Surname prefixes written joined to a capital (`McCoy`, `MacDonald`, `VanDyke`): no
# space was lost there.
_PREFIXES = frozenset({"mac", "van", "von", "del", "des", "den", "der", "ten", "ter"})


def _spaced(chars: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The line's characters with the spaces the engine tends to lose put back: before a
    capital that follows a lower-case word of 3 letters or more (`DarrylDaniels`, not
    `McCoy`), and before a capitalised word that follows an initial or a comma
    (`M.Lemma`, `Director,Enforcement`)."""
    out: list[tuple[str, Any]] = []
    run = ""  # the letters of the word so far
    for i, (char, box) in enumerate(chars):
        after = chars[i + 1][0] if i + 1 < len(chars) else ""
        previous = out[-1][0] if out else ""
        lost = (
            char.isupper() and previous.islower() and len(run) >= 3 and run.lower() not in _PREFIXES
        ) or (char.isupper() and after.islower() and previous in ".," and len(out) > 1)
        if lost:
            out.append((" ", box))
            run = ""
        out.append((char, box))
        run = run + char if char.isalpha() else ""
    return out


def _read_pgm(data: bytes) -> Any:
    import numpy as np

    parts = data.split(maxsplit=4)
    if len(parts) != 5 or parts[0] != b"P5":
        raise ValueError("not a binary PGM image")
    width, height = int(parts[1]), int(parts[2])
    pixels = np.frombuffer(parts[4][: width * height], dtype=np.uint8)
    gray = pixels.reshape(height, width)
    return np.stack([gray, gray, gray], axis=-1)


def main() -> int:  # pragma: no cover (the child process; tests run it through recognize_lines)
    _limit_memory()
    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped,unused-ignore]

    image = _read_pgm(sys.stdin.buffer.read())
    engine = RapidOCR(
        use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1, max_side_len=MAX_SIDE
    )
    result, _ = engine(image, return_word_box=True)
    lines = []
    for entry in result or []:
        # [line box, text, score, one box per character (spaces too), ...], in the
        # input image's pixels.
        box, text, score = entry[0], str(entry[1]), float(entry[2])
        quads = entry[3] if len(entry) > 3 and len(entry[3]) == len(text) else None
        if quads is None:  # no character boxes: the line's box, split evenly
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            step = (max(xs) - min(xs)) / max(len(text), 1)
            quads = [
                [[min(xs) + i * step, min(ys)], [min(xs) + (i + 1) * step, max(ys)]]
                for i in range(len(text))
            ]
        boxes = [
            [min(p[0] for p in q), min(p[1] for p in q), max(p[0] for p in q), max(p[1] for p in q)]
            for q in quads
        ]
        lines.append({"text": text, "score": score, "boxes": boxes})
    sys.stdout.write(json.dumps(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
