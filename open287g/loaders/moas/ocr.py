"""OCR with Tesseract (the `tesseract` command, Debian package `tesseract-ocr`).

Tesseract runs as a child process on one rendered page at a time, with a time limit and
one thread, so a page it chokes on costs a bounded time and never takes the loader with it.
Its TSV output gives every word with a box and a confidence (0–100).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from open287g.loaders.moas.layout import Word

ENGINE = "tesseract"


class OcrUnavailable(Exception):
    """No OCR engine on this machine: scanned pages are stored with this reason."""


class OcrFailed(Exception):
    """The engine gave up on one page (time limit, crash): that page keeps the reason."""


@dataclass(frozen=True, slots=True)
class OcrPage:
    words: list[Word]
    text: str
    confidence: float | None  # mean word confidence, 0–1


@functools.cache
def engine_version() -> str:
    """`tesseract 5.3.0`; raises OcrUnavailable when the command is missing."""
    path = shutil.which("tesseract")
    if path is None:
        raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr)")
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [path, "--version"], capture_output=True, timeout=10, check=True, env=_env()
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise OcrUnavailable(f"tesseract does not run: {exc}") from exc
    first = (out.stdout or out.stderr).decode(errors="replace").splitlines()
    return first[0].strip() if first else ENGINE


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1"}


def recognize(image: bytes, points_per_pixel: float, *, psm: int, timeout: float) -> OcrPage:
    """Words (boxes in PDF points) of a PGM/PNG image. `psm` 3 reads pages in reading
    order; 11 finds sparse text, such as a name typed beside a signature."""
    engine_version()
    executable = shutil.which("tesseract") or "tesseract"
    command = [executable, "stdin", "stdout", "--psm", str(psm), "-l", "eng", "tsv"]
    out = run_engine(command, image, timeout=timeout, env=_env(), name="tesseract")
    return parse_tsv(out.decode("utf-8", errors="replace"), points_per_pixel)


def run_engine(
    command: list[str], image: bytes, *, timeout: float, env: dict[str, str], name: str
) -> bytes:
    """An OCR engine's output for one image on its stdin: a child process under a
    wall-clock limit, its failures as `OcrFailed` naming the engine (`name`)."""
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, the image goes to stdin)
            command, input=image, capture_output=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"{name} took longer than {timeout:g} s") from exc
    except OSError as exc:
        raise OcrFailed(f"{name} failed: {exc}") from exc
    if out.returncode != 0:
        message = out.stderr.decode(errors="replace").strip().splitlines()
        raise OcrFailed(f"{name} exited {out.returncode}: {message[-1] if message else ''}")
    return out.stdout


def parse_tsv(tsv: str, points_per_pixel: float) -> OcrPage:
    words: list[Word] = []
    lines: dict[tuple[str, str, str], list[str]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or not cells[11].strip():
            continue
        left, top, width, height = (int(c) for c in cells[6:10])
        conf = float(cells[10])
        if conf < 0:
            continue
        k = points_per_pixel
        words.append(
            Word(cells[11].strip(), left * k, top * k, (left + width) * k, (top + height) * k, conf)
        )
        lines.setdefault((cells[2], cells[3], cells[4]), []).append(cells[11].strip())
    text = "\n".join(" ".join(ws) for ws in lines.values())
    confidence = sum(w.conf or 0 for w in words) / len(words) / 100 if words else None
    return OcrPage(words, text, confidence)
