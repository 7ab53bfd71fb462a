"""ICE spreadsheets read as bounded streams (#23): limits by rows and cells, not only
bytes, measured as the peak memory of a child process; formula cells read as the value
saved with them or rejected with the true reason, never as their text; HYPERLINK formulas
give their address or say why not."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from open287g.db.models.enums import SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.parse import ParsedSheet, parse_workbook
from open287g.loaders.xlsx_stream import SheetLimits, _NoDeclarations
from tests.support.fixtures import PARTICIPATING_HEADER, SAFELINK, Formula, raw_xlsx, xml_row

MEMORY_LIMIT_MB = 512
CPU_LIMIT_SECONDS = 2.0
ZAVALA = '=CONCATENATE("Zavala"," County Sheriff\'s Office")'
MOA = "https://www.ice.gov/doclib/287gMOA/ZavalaCountyTX_MOA.pdf"
ROW = ["TEXAS", "Zavala County Sheriff's Office", "County", "Zavala County", "Task Force Model",
       45658, "link pending"]  # fmt: skip


def _parse(path: Path, limits: SheetLimits | None = None) -> ParsedSheet:
    return parse_workbook(
        str(path),
        path.read_bytes(),
        SnapshotKind.PARTICIPATING,
        published_on=dt.date(2025, 7, 1),
        max_unzipped_bytes=200 * 1024 * 1024,
        limits=limits,
    )


def _sheet(path: Path, *rows: list[object], links: tuple[tuple[str, str], ...] = ()) -> Path:
    lines = [xml_row(1, PARTICIPATING_HEADER)]
    lines += [xml_row(n, row) for n, row in enumerate(rows, start=2)]
    return raw_xlsx(path, lines, hyperlinks=links)


def _issues(parsed: ParsedSheet) -> list[tuple[int | None, str | None, str, str]]:
    return [(i.row_number, i.column, i.action.value, i.reason) for i in parsed.issues]


def test_a_formula_agency_with_no_saved_value_is_rejected_not_named_by_its_text(
    tmp_path: Path,
) -> None:
    parsed = _parse(_sheet(tmp_path / "f.xlsx", [ROW[0], Formula(ZAVALA), *ROW[2:]]))
    assert parsed.rows == []
    reason = "formula with no value saved in the file; its text is not data"
    assert _issues(parsed) == [(2, "LAW ENFORCEMENT AGENCY", "REJECTED", reason)]
    assert parsed.issues[0].value == ZAVALA


def test_a_formula_is_read_as_the_value_saved_with_it(tmp_path: Path) -> None:
    saved = "Zavala County Sheriff's Office"
    parsed = _parse(_sheet(tmp_path / "f.xlsx", [ROW[0], Formula(ZAVALA, saved), *ROW[2:]]))
    [row] = parsed.rows
    assert row.agency_name == saved
    reported = _issues(parsed)
    assert (
        2,
        "LAW ENFORCEMENT AGENCY",
        "REPAIRED",
        "formula; read as the value saved with it",
    ) in (reported)


@pytest.mark.parametrize(
    ("cell", "moa_url", "reasons"),
    [
        (Formula(f'=HYPERLINK("{MOA}","link")', "link"), MOA,
         ["address read from a HYPERLINK formula"]),
        (f'=HYPERLINK("{MOA}","link")', MOA, ["address read from a HYPERLINK formula"]),
        (Formula(f'=HYPERLINK("{SAFELINK.format(name="z")}","link")', "link"),
         "https://www.ice.gov/doclib/287gMOA/z.pdf",
         ["address read from a HYPERLINK formula", "safelinks wrapper removed"]),
        (Formula('=HYPERLINK("https://www.ice.gov/doclib/"&A2,"link")', "link"), None,
         ["HYPERLINK formula whose address is computed, not written out; dropped"]),
        (Formula('=IF(A2="","",A2)', "TEXAS"), None, ["formula where a link belongs; dropped"]),
    ],
    ids=["formula", "typed-as-text", "safelinks-inside", "computed", "not-a-link"],
)  # fmt: skip
def test_a_hyperlink_formula_gives_its_address_or_says_why_not(
    tmp_path: Path, cell: object, moa_url: str | None, reasons: list[str]
) -> None:
    parsed = _parse(_sheet(tmp_path / "f.xlsx", [*ROW[:6], cell]))
    [row] = parsed.rows
    assert row.moa_url == moa_url
    assert [reason for _, column, _, reason in _issues(parsed) if column == "MOA"] == reasons


def test_a_real_hyperlink_is_still_read(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "f.xlsx", [*ROW[:6], "link"], links=(("G2", MOA),))
    [row] = _parse(path).rows
    assert row.moa_url == MOA
    assert row.signed_on == dt.date(2025, 1, 1)  # Excel serial 45658


@pytest.mark.parametrize(
    ("rows", "limits", "message"),
    [
        ([[*ROW]] * 30, SheetLimits(rows=20, cells=10**6), "has more than 20 rows"),
        ([[*ROW]] * 30, SheetLimits(rows=100, cells=150), "has more than 150 cells"),
        ([[*ROW, *([None] * 1100), "x"]], None, "a value in column 1108 of row 2, beyond"),
    ],
    ids=["rows", "cells", "columns"],
)
def test_sheets_past_a_limit_are_refused(
    tmp_path: Path, rows: list[list[object]], limits: SheetLimits | None, message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        _parse(_sheet(tmp_path / "f.xlsx", *rows), limits)


def test_a_sheet_declaring_entities_is_refused(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "f.xlsx", ROW)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + sheet
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(LoadError, match="refused: a sheet that declares a DTD or entities"):
        _parse(path)  # openpyxl does not size the sheet: the guard is the first to read it
    # The guard holds across reads of any size.
    source = io.BytesIO(b"<?xml version='1.0'?>" + b" " * 4090 + b'<!DOCTYPE x [<!ENTITY a "a">]>')
    guarded = _NoDeclarations("f.xlsx", source)
    with pytest.raises(LoadError, match="declares a DTD or entities"):
        _read_all(guarded)


def _read_all(source: _NoDeclarations) -> None:
    while source.read(4096):
        pass


CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.parse import parse_workbook
path = Path(sys.argv[1])
started = time.process_time()
try:
    parsed = parse_workbook(str(path), path.read_bytes(), SnapshotKind.PARTICIPATING,
                            published_on=dt.date(2025, 7, 1), max_unzipped_bytes=200 * 2**20)
    outcome = f"read {parsed.rows_read} rows"
except LoadError as error:
    outcome = str(error)
cpu = time.process_time() - started
# VmHWM, not ru_maxrss: Linux carries a process's ru_maxrss across fork and execve, so a
# child of a large pytest process reported the parent's 665 MB whatever it used itself.
status = Path("/proc/self/status").read_text()
peak = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM:"))) / 1024
print(json.dumps({"outcome": outcome, "peak_mb": peak, "cpu_s": cpu}))
"""


def _million_rows() -> Iterator[str]:
    yield xml_row(1, PARTICIPATING_HEADER)
    for number in range(2, 1_000_002):
        yield f'<row r="{number}"><c r="A{number}"><v>{number}</v></c></row>'


def _one_enormous_row() -> Iterator[str]:
    yield xml_row(1, PARTICIPATING_HEADER)
    yield '<row r="2">' + "".join(f"<c><v>{n}</v></c>" for n in range(300_000)) + "</row>"


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (_million_rows, "has more than 100,000 rows"),
        (_one_enormous_row, "a value in column 1025 of row 2, beyond the 1024 columns"),
    ],
    ids=["a-million-rows", "one-row-of-300000-cells"],
)
def test_a_million_small_cells_are_refused_within_512_mb(
    tmp_path: Path, shape: object, message: str
) -> None:
    """Refused within the memory bound, and at once: in CPU seconds of the child's own
    reading (not its imports, nor other processes on a busy machine). A sheet without a
    <dimension> element was parsed whole by openpyxl's sizing before any row limit
    applied (6 s of CPU for a million rows; refused now in a tenth of a second)."""
    assert callable(shape)
    path = raw_xlsx(tmp_path / "million.xlsx", shape())
    with zipfile.ZipFile(path) as archive:
        expanded = sum(member.file_size for member in archive.infolist())
    child = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    result = json.loads(child.stdout)
    print(
        f"\n{path.stat().st_size:,} bytes ({expanded:,} expanded): {result['outcome']};"
        f" peak {result['peak_mb']:.0f} MB, {result['cpu_s']:.2f} s of CPU"
    )
    assert message in result["outcome"]
    assert result["peak_mb"] < MEMORY_LIMIT_MB
    assert result["cpu_s"] < CPU_LIMIT_SECONDS
