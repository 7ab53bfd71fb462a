"""Stream the rows of a detainer file, whatever its format, with the header found by name.

CSV, parquet and xlsx are told apart by their first bytes, not their extension. Headers are
folded to snake_case, so the Deportation Data Project's `detainer_prepare_date` and raw
ICE's `Detainer Prepare Date` (under preamble rows) are the same column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from open287g.loaders.errors import LoadError
from open287g.loaders.xlsx import open_workbook

HEADER_SEARCH_ROWS = 30
PARQUET_BATCH_ROWS = 65_536

INDIVIDUAL_REQUIRED = (
    "detainer_prepare_date", "facility_state", "detention_facility", "detainer_lift_reason",
)  # fmt: skip
INDIVIDUAL_OPTIONAL = (
    "detention_facility_code", "facility_city", "detainer_prepared_criminality",
    "citizenship_country", "most_serious_conviction_msc_charge",
    "data_source",  # "synthetic" on invented rows: labels the release (load.synthetic_label)
)  # fmt: skip
AGGREGATE_REQUIRED = ("period", "state", "facility", "issued", "declined")
AGGREGATE_OPTIONAL = ("facility_code", "city", "booked_into_detention", "pending")

_NON_WORD = re.compile(r"[^a-z0-9]+")


def canonical(header: object) -> str:
    return _NON_WORD.sub("_", str(header or "").strip().lower()).strip("_")


@dataclass(frozen=True)
class Table:
    """`columns` maps each known column to its position; `rows` yields (row number, values)."""

    layout: str  # "individual" or "aggregate"
    columns: dict[str, int]
    rows: Iterator[tuple[int, Sequence[Any]]]


def _match_header(values: Sequence[Any]) -> tuple[str, dict[str, int]] | None:
    names = [canonical(v) for v in values]
    for layout, required, optional in (
        ("individual", INDIVIDUAL_REQUIRED, INDIVIDUAL_OPTIONAL),
        ("aggregate", AGGREGATE_REQUIRED, AGGREGATE_OPTIONAL),
    ):
        if all(name in names for name in required):
            return layout, {n: names.index(n) for n in (*required, *optional) if n in names}
    return None


def _missing_message(candidates: list[Sequence[Any]]) -> str:
    best = max(candidates, key=lambda v: sum(canonical(x) in INDIVIDUAL_REQUIRED for x in v),
               default=[])  # fmt: skip
    names = {canonical(v) for v in best}
    missing = [c for c in INDIVIDUAL_REQUIRED if c not in names]
    if names & set(INDIVIDUAL_REQUIRED):
        return f"missing required column(s): {', '.join(missing)}"
    return (
        "no header row found: expected the detainer release columns "
        f"({', '.join(INDIVIDUAL_REQUIRED)}) or an aggregate CSV "
        f"({', '.join(AGGREGATE_REQUIRED)}) in the first {HEADER_SEARCH_ROWS} rows"
    )


def _locate(label: str, rows: Iterator[tuple[int, Sequence[Any]]]) -> Table:
    seen: list[Sequence[Any]] = []
    for number, values in islice(rows, HEADER_SEARCH_ROWS):
        found = _match_header(values)
        if found:
            return Table(found[0], found[1], rows)
        seen.append(values)
        del number
    raise LoadError(label, _missing_message(seen))


def sniff_format(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(4)
    if head.startswith(b"PK"):
        return "xlsx"
    if head == b"PAR1":
        return "parquet"
    return "csv"


@contextmanager
def open_table(label: str, path: Path, *, max_unzipped_bytes: int) -> Iterator[Table]:
    kind = sniff_format(path)
    if kind == "parquet":
        yield _parquet_table(label, path)
    elif kind == "xlsx":
        workbook = open_workbook(label, path, max_unzipped_bytes=max_unzipped_bytes, streaming=True)
        try:
            sheet = workbook.worksheets[0]
            numbered = enumerate(sheet.iter_rows(values_only=True), start=1)
            yield _locate(label, numbered)
        finally:
            workbook.close()
    else:
        with path.open("rb") as raw:
            head = raw.read(4096)
            if b"\0" in head:
                raise LoadError(label, "not a CSV, parquet or xlsx file (binary content)")
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
            yield _locate(label, _csv_rows(label, text))


def _csv_rows(label: str, text: io.TextIOWrapper) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        yield from enumerate(csv.reader(text), start=1)
    except UnicodeDecodeError as exc:
        raise LoadError(label, f"not UTF-8 text ({exc.reason}); is this a CSV file?") from exc
    except csv.Error as exc:
        raise LoadError(label, f"malformed CSV: {exc}") from exc


def _parquet_table(label: str, path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise LoadError(label, f"not a readable parquet file ({exc})") from exc
    names = parquet.schema_arrow.names
    found = _match_header(names)
    if found is None:
        raise LoadError(label, _missing_message([names]))
    layout, columns = found

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        # All columns, not just the ones aggregated: exact-duplicate detection needs them.
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                for values in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                    number += 1
                    yield number, values
        except (pa.ArrowException, OSError) as exc:
            raise LoadError(label, f"parquet file is damaged after row {number} ({exc})") from exc

    return Table(layout, columns, rows())
