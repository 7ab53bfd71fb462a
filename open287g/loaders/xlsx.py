"""Opening untrusted xlsx files safely: checks on the zip container before any XML is
parsed (size, expansion ratio, required parts), then openpyxl with defusedxml in place."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from open287g.loaders.errors import LoadError

MAX_EXPANSION_RATIO = 100
"""Real xlsx files expand 5–20×; a zip bomb expands thousands of times."""


def open_workbook(
    label: str,
    source: bytes | Path,
    *,
    max_unzipped_bytes: int,
    streaming: bool = False,
    sized: bool = True,
) -> Workbook:
    """A checked workbook from bytes or a file. `streaming` reads rows lazily (large
    files) but loses hyperlinks, which only the normal mode reads; close it when done.
    `sized=False` (streaming only) skips openpyxl's sizing of each sheet, for a caller
    that bounds the rows it reads itself: openpyxl parses a sheet up to its
    `<dimension>` element, and the whole sheet when it has none (a million rows without
    one took 25 s before the first row was handed out). Chart sheets are left out."""
    head = source[:2048] if isinstance(source, bytes) else _read_head(source)
    if not head.startswith(b"PK"):
        kind = "a CSV or text file" if _looks_like_text(head) else "not a zip container"
        raise LoadError(label, f"not a valid .xlsx file ({kind})")
    container = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        archive = zipfile.ZipFile(container)
    except zipfile.BadZipFile as exc:
        raise LoadError(label, f"not a valid .xlsx file (broken zip: {exc})") from exc
    with archive:
        _check_members(label, archive.infolist(), max_unzipped_bytes)
    if isinstance(container, io.BytesIO):
        container.seek(0)
    try:
        if streaming and not sized:
            reader = _UnsizedReader(container, read_only=True, data_only=True)
            reader.read()
            return reader.wb
        return openpyxl.load_workbook(container, read_only=streaming, data_only=streaming)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise LoadError(label, f"not a readable .xlsx file ({type(exc).__name__}: {exc})") from exc


class _UnsizedSheet(ReadOnlyWorksheet):
    def _get_size(self) -> None:
        """No pass over the sheet for its size (its max_row and max_column stay None)."""


class _UnsizedReader(ExcelReader):
    def read_worksheets(self) -> None:
        """openpyxl's read-only branch, with sheets that are not sized on opening (its
        internals, typed loosely; tests/loaders/test_xlsx_limits.py breaks if an upgrade changes
        them)."""
        workbook: Any = self.wb
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                worksheet: Any = _UnsizedSheet(
                    workbook, sheet.name, rel.target, self.shared_strings
                )
                worksheet.sheet_state = sheet.state
                workbook._sheets.append(worksheet)


def _check_members(label: str, members: list[zipfile.ZipInfo], max_unzipped_bytes: int) -> None:
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
            label, f"refused: expands {expanded / compressed:,.0f}× (possible zip bomb)"
        )


def _read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(2048)


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return False
    return b"," in head or b"\t" in head
