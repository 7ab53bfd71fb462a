"""A worksheet of an untrusted xlsx read as a stream of rows, in memory bounded by rows and
cells, not only by bytes.

openpyxl's normal mode (which the ICE parser used, for hyperlinks) builds every cell of
the workbook as an object: an xlsx inside every byte guard (23.9 MB, 199.6 MB expanded,
950,000 rows of 7 numbers) took 92 s and 2.85 GB before its rows were rejected (#23). Here
the sheet XML is parsed element by element (openpyxl's cell decoding: shared strings,
dates by style, the 1904 epoch), each cell is dropped once read, and a sheet with more
than `SheetLimits.rows` rows or `SheetLimits.cells` cells is refused as soon as the count
is passed. Parts read whole (shared strings, styles, relationships) are refused above
`MAX_WHOLE_PART_BYTES` expanded.

Formula cells are not data: a cell holds what Excel saved with its formula (`value`, None
when the file carries no saved value) and the formula itself (`formula`), so a reader
decides, and says, what it does with either. Hyperlinks (which the sheet XML lists after
all rows) are read in a first pass that also enforces the limits, so an oversized sheet
is refused before any row is handed out.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, NoReturn, cast
from xml.etree.ElementTree import iterparse

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import fromstring

from open287g.config import Settings
from open287g.loaders.errors import LoadError
from open287g.loaders.xlsx import open_workbook

MAX_COLUMNS = 1024
"""Columns a list may use (ICE's use 8); a value further right is refused, an empty
formatted cell there (common: formatting applied to whole rows) is skipped."""
MAX_CELL_ELEMENTS = 256
"""Elements inside one cell (a value, a formula, rich-text runs)."""
MAX_WHOLE_PART_BYTES = 32 * 1024 * 1024
"""Expanded size of a part read whole (shared strings, styles): ICE's are under 100 KB."""

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_CELL = f"{{{SHEET_MAIN_NS}}}c"
_FORMULA = f"{{{SHEET_MAIN_NS}}}f"
_SHEET_DATA = f"{{{SHEET_MAIN_NS}}}sheetData"
# The first pass finds tags in the bytes (any namespace prefix).
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_HYPERLINK_TAG = re.compile(rb"<(?:[\w.-]+:)?hyperlink\s[^>]*>")
_LINK_REF = re.compile(rb'\sref="([^"]*)"')
_LINK_ID = re.compile(rb'\s(?:[\w.-]+:)?id="([^"]*)"')
MAX_TAG_BYTES = 1 << 20
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


@dataclass(frozen=True, slots=True)
class SheetLimits:
    rows: int
    cells: int

    @classmethod
    def from_settings(cls, settings: Settings) -> SheetLimits:
        return cls(settings.max_sheet_rows, settings.max_sheet_cells)


@dataclass(frozen=True, slots=True)
class SheetCell:
    row: int
    column: int
    value: Any
    """The cell's value; for a formula, the value saved with it (None: none saved)."""
    formula: str | None = None
    """`=…` when the cell holds a formula."""
    hyperlink: str | None = None
    """The target of the cell's hyperlink (not of a HYPERLINK formula)."""


Row = tuple[int, tuple[SheetCell | None, ...]]
"""A row number and its cells, column A first (None where a row has no cell)."""


class StreamedSheet:
    def __init__(
        self, label: str, workbook: Workbook, sheet: ReadOnlyWorksheet, limits: SheetLimits
    ) -> None:
        self.label = label
        self.title = sheet.title
        # openpyxl's read-only internals (typed loosely: they are not public API; the
        # tests of this module break if an upgrade changes them).
        self._workbook: Any = workbook
        self._sheet: Any = sheet
        self._limits = limits

    def rows(self) -> Generator[Row]:
        """Every row that has cells, in order; LoadError past a limit (before any row)."""
        links = self._scan()
        yield from self._parse(links)

    def _scan(self) -> dict[tuple[int, int], str]:
        """The first pass, over the bytes (at the speed of `re`, no XML objects): rows and
        cells counted against the limits, and the hyperlinks, which the sheet lists after
        its rows: (row, column) → target. Counting tags in the bytes can only overcount
        (a `<row` inside a comment), never miss one the parser will read."""
        targets = self._relationship_targets()
        links: dict[tuple[int, int], str] = {}
        rows = cells = 0
        carry = b""
        with self._source() as source:
            while chunk := source.read(1 << 20):
                data = carry + chunk
                cut = data.rfind(b"<")  # a tag cut by the read waits for the next one
                if cut < 0:
                    cut = len(data)
                if len(data) - cut > MAX_TAG_BYTES:
                    self._refuse(f"a tag of more than {MAX_TAG_BYTES:,} bytes")
                body, carry = data[:cut], data[cut:]
                rows += len(_ROW_TAG.findall(body))
                cells += len(_CELL_TAG.findall(body))
                if rows > self._limits.rows:
                    self._refuse(f"more than {self._limits.rows:,} rows")
                if cells > self._limits.cells:
                    self._refuse(f"more than {self._limits.cells:,} cells")
                for tag in _HYPERLINK_TAG.findall(body):
                    self._add_link(links, targets, tag)
        for tag in _HYPERLINK_TAG.findall(carry):
            self._add_link(links, targets, tag)
        return links

    def _parse(self, links: dict[tuple[int, int], str]) -> Generator[Row]:
        """The rows with their cells, every element dropped once read (the parents of
        rows and cells are emptied as they go, so one enormous row is no worse than many
        rows); the limits are checked again as the parser sees rows and cells."""
        parser = WorkSheetParser(
            cast(Any, None),
            self._sheet._shared_strings,
            data_only=True,
            epoch=self._workbook.epoch,
            date_formats=self._workbook._date_formats,
            timedelta_formats=self._workbook._timedelta_formats,
        )
        rows = cells = inside_cell = 0
        number = 0
        row: dict[int, SheetCell] = {}
        stack: list[Any] = []
        with self._source() as source:
            for event, element in iterparse(source, events=("start", "end")):  # noqa: S314
                if event == "start":
                    stack.append(element)
                    if inside_cell:
                        inside_cell += 1
                        if inside_cell > MAX_CELL_ELEMENTS:
                            self._refuse(f"a cell of more than {MAX_CELL_ELEMENTS} elements")
                    elif element.tag == _CELL:
                        inside_cell = 1
                    elif element.tag == _ROW:
                        rows += 1
                        if rows > self._limits.rows:
                            self._refuse(f"more than {self._limits.rows:,} rows")
                        reference = element.get("r")
                        number = int(float(reference)) if reference else number + 1
                        parser.row_counter, parser.col_counter, row = number, 0, {}
                    continue
                stack.pop()
                tag = element.tag
                if tag == _CELL:
                    inside_cell = 0
                    cells += 1
                    if cells > self._limits.cells:
                        self._refuse(f"more than {self._limits.cells:,} cells")
                    self._add_cell(row, parser, element, number, links)
                elif inside_cell:
                    inside_cell -= 1
                    continue  # a part of a cell: read with the cell
                elif tag == _ROW:
                    yield number, tuple(row.get(c) for c in range(1, max(row, default=0) + 1))
                elif tag == _SHEET_DATA:
                    return
                if stack:
                    stack[-1].clear()  # this element, and any read before it

    def _add_cell(
        self,
        row: dict[int, SheetCell],
        parser: Any,
        element: Any,
        number: int,
        links: dict[tuple[int, int], str],
    ) -> None:
        parsed = parser.parse_cell(element)
        formula = None
        if element.find(_FORMULA) is not None:
            formula = parser.parse_formula(element)
            formula = str(getattr(formula, "text", formula))
        column = parsed["column"]
        if column > MAX_COLUMNS:
            if parsed["value"] is not None or formula is not None:
                raise LoadError(
                    self.label,
                    f"refused: sheet {self.title!r} has a value in column {column} of row"
                    f" {number}, beyond the {MAX_COLUMNS} columns read",
                )
            return  # formatting applied to a whole row
        link = links.get((number, column))
        row[column] = SheetCell(number, column, parsed["value"], formula, link)

    def _add_link(
        self, links: dict[tuple[int, int], str], targets: dict[str, str], tag: bytes
    ) -> None:
        reference, rel_id = _LINK_REF.search(tag), _LINK_ID.search(tag)
        target = targets.get(rel_id.group(1).decode("latin-1")) if rel_id else None
        if target is None or reference is None:
            return  # a link inside the workbook, or one without a cell
        try:
            min_col, min_row, max_col, max_row = range_boundaries(reference.group(1).decode())
        except (ValueError, UnicodeDecodeError):
            return
        if min_col is None or min_row is None or max_col is None or max_row is None:
            return
        max_col = min(max_col, MAX_COLUMNS)
        if len(links) + (max_col - min_col + 1) * (max_row - min_row + 1) > self._limits.cells:
            self._refuse(f"hyperlinks on more than {self._limits.cells:,} cells")
        for row in range(min_row, max_row + 1):
            for column in range(min_col, max_col + 1):
                links[(row, column)] = target

    def _relationship_targets(self) -> dict[str, str]:
        path: str = self._sheet._worksheet_path
        rels = posixpath.join(posixpath.dirname(path), "_rels", posixpath.basename(path) + ".rels")
        archive = self._workbook._archive
        if rels not in archive.namelist():
            return {}
        tree = fromstring(archive.read(rels))
        return {
            str(node.get("Id")): str(node.get("Target"))
            for node in tree.iter(_RELATIONSHIP)
            if node.get("Id") and node.get("Target")
        }

    @contextmanager
    def _source(self) -> Iterator[IO[bytes]]:
        source = self._sheet._get_source()
        try:
            yield cast(IO[bytes], _NoDeclarations(self.label, source))
        finally:
            source.close()

    def _refuse(self, what: str) -> NoReturn:
        raise LoadError(self.label, f"refused: sheet {self.title!r} has {what}")


@contextmanager
def open_sheets(
    label: str, data: bytes, *, max_unzipped_bytes: int, limits: SheetLimits
) -> Iterator[list[StreamedSheet]]:
    """The workbook's worksheets, each read as a bounded stream (`StreamedSheet.rows`)."""
    _check_whole_parts(label, data)
    workbook = open_workbook(
        label, data, max_unzipped_bytes=max_unzipped_bytes, streaming=True, sized=False
    )
    try:
        yield [
            StreamedSheet(label, workbook, sheet, limits)
            for sheet in workbook.worksheets
            if isinstance(sheet, ReadOnlyWorksheet)
        ]
    finally:
        workbook.close()


def _check_whole_parts(label: str, data: bytes) -> None:
    """Parts openpyxl reads whole on opening (shared strings, styles) within
    MAX_WHOLE_PART_BYTES each; what is not a zip is left to `open_workbook` to name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        for member in archive.infolist():
            streamed = member.filename.startswith("xl/worksheets/sheet")
            if not streamed and member.file_size > MAX_WHOLE_PART_BYTES:
                raise LoadError(
                    label,
                    f"refused: {member.filename} expands to {member.file_size:,} bytes, over"
                    f" the {MAX_WHOLE_PART_BYTES:,} read at once",
                )


class _NoDeclarations:
    """A sheet's bytes, refused if they declare a DTD or entities.

    The sheet XML is parsed with the C parser (defusedxml's pure-Python one, which
    openpyxl uses, read 700 cells a second); what defusedxml guards against needs a
    `<!DOCTYPE` or `<!ENTITY` declaration, which no spreadsheet needs, so any is refused
    (a declaration split across two reads is caught too). UTF-16, which would hide one
    from this byte scan, is refused as well: Excel and openpyxl write UTF-8."""

    _DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
    _OVERLAP = 16

    def __init__(self, label: str, raw: IO[bytes]) -> None:
        self.label = label
        self.raw = raw
        self.tail = b""
        self.started = False

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if not self.started and data:
            self.started = True
            if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
                raise LoadError(self.label, "refused: a sheet not encoded as UTF-8")
        window = self.tail + data
        if self._DECLARATION.search(window):
            raise LoadError(self.label, "refused: a sheet that declares a DTD or entities")
        self.tail = window[-self._OVERLAP :]
        return data
