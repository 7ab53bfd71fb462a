"""Write the demo spreadsheets next to this file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA"]
PARTICIPATING_JUNE = [
    ("TEXAS", "Example County Sheriff's Office (DEMO)", "County", "Example County",
     "Jail Enforcement Model", dt.date(2025, 3, 3)),
    ("TEXAS", "Example County Sheriff's Office (DEMO)", "County", "Example County",
     "Warrant Service Officer", dt.date(2025, 3, 3)),
    ("FLORIDA", "Sample City Police Department (DEMO)", "Municipality", "Sample County",
     "Task Force Model", dt.date(2025, 4, 14)),
    ("FLORIDA", "Sample County Sheriff's Office (DEMO)", "County", "Sample County",
     "Task Force Model", "05/082025"),
    ("GEORGIA", "Placeholder County Sheriff's Office (DEMO)", "County", "Placeholder County",
     "Warrant Service Officer", dt.date(2025, 2, 10)),
    ("OKLAHOMA", "Demo State Bureau of Investigation (DEMO)", "State Agency", "#N/A",
     "Task Force Model", dt.date(2025, 2, 18)),
]  # fmt: skip
PENDING_JUNE = [
    ("ALABAMA", "Fictional County Sheriff's Office (DEMO)", "County", "Fictional County",
     "Jail Enforcement Model"),
    ("TEXAS", "Mockville Police Department (DEMO)", "Municipality", "Example County",
     "Task Force Model"),
]  # fmt: skip
PARTICIPATING_JULY = [
    *[row for row in PARTICIPATING_JUNE if "Placeholder" not in row[1]],
    ("ALABAMA", "Fictional County Sheriff's Office (DEMO)", "County", "Fictional County",
     "Jail Enforcement Model", dt.date(2025, 6, 20)),
]  # fmt: skip


def _write(path: Path, header: list[str], rows: list[tuple[object, ...]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        values = list(row)
        if len(header) > len(values):
            values.append("link pending")
        sheet.append(values)
    fixed = dt.datetime(2025, 7, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.save(path)


def main() -> None:
    here = Path(__file__).parent
    _write(here / "demo-participating-2025-06-02.xlsx", HEADER, list(PARTICIPATING_JUNE))
    _write(here / "demo-pending-2025-06-02.xlsx", HEADER[:5], list(PENDING_JUNE))
    _write(here / "demo-participating-2025-07-01.xlsx", HEADER, list(PARTICIPATING_JULY))


if __name__ == "__main__":
    main()
