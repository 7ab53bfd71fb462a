"""Opening untrusted xlsx files safely: checks on the zip container before any XML is
parsed (size, expansion ratio, required parts), then openpyxl with defusedxml in place."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from openpyxl.workbook.workbook import Workbook

from open287g.loaders.errors import LoadError

MAX_EXPANSION_RATIO = 100
"""Real xlsx files expand 5–20×; a zip bomb expands thousands of times."""


def open_workbook(label: str, data: bytes, *, max_unzipped_bytes: int) -> Workbook:
    if not data.startswith(b"PK"):
        kind = "a CSV or text file" if _looks_like_text(data) else "not a zip container"
        raise LoadError(label, f"not a valid .xlsx file ({kind})")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LoadError(label, f"not a valid .xlsx file (broken zip: {exc})") from exc
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise LoadError(label, "not a valid .xlsx file (zip without a workbook inside)")
        expanded = sum(member.file_size for member in members)
        if expanded > max_unzipped_bytes:
            raise LoadError(
                label,
                f"refused: expands to {expanded:,} bytes, over the limit of "
                f"{max_unzipped_bytes:,} (possible zip bomb)",
            )
        compressed = max(1, sum(member.compress_size for member in members))
        if expanded / compressed > MAX_EXPANSION_RATIO and expanded > 10 * 1024 * 1024:
            raise LoadError(
                label,
                f"refused: expands {expanded / compressed:,.0f}× (possible zip bomb)",
            )
    try:
        # Not read-only mode: hyperlinks (the MOA links) are only read in normal mode.
        return openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except LoadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise LoadError(label, f"not a readable .xlsx file ({type(exc).__name__}: {exc})") from exc


def _looks_like_text(data: bytes) -> bool:
    head = data[:2048]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"," in head or b"\t" in head
