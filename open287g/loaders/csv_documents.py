"""Small CSV sources (policies, officials, overrides): header checks, row reading, the load
sequence and the `load` command they share. Big files (detainer releases) stream through
their own loader."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import get_settings
from open287g.db.ingest.provenance import (
    IssueRecord,
    LoadCounts,
    begin_load,
    file_transaction,
    find_load_of,
    finish_load,
    lock_dataset,
)
from open287g.db.ingest.removed import RemovalStep, rows_go_with_their_runs
from open287g.db.models.enums import IssueAction
from open287g.db.reference_data import State
from open287g.loaders.commands import Source, command, migrated_engine
from open287g.loaders.errors import LoadError
from open287g.loaders.normalize import clean_text, lookup_state
from open287g.loaders.sources import SourceDocument, read_one
from open287g.text import name_key

Row = TypeVar("Row")


def rejected(number: int, column: str | None, reason: str, value: object = None) -> IssueRecord:
    """The issue of a row left out: by the parser (ParsedCsv.reject) or by a merge that
    finds what it names missing from the database."""
    return IssueRecord(
        number, column, IssueAction.REJECTED, reason, None if value is None else str(value)
    )


@dataclass
class ParsedCsv(Generic[Row]):
    rows: list[Row] = field(default_factory=list)
    issues: list[IssueRecord] = field(default_factory=list)
    rows_read: int = 0

    def reject(self, number: int, column: str | None, reason: str, value: object = None) -> None:
        self.issues.append(rejected(number, column, reason, value))

    def repair(self, number: int, column: str | None, reason: str, value: object = None) -> None:
        text = None if value is None else str(value)
        self.issues.append(IssueRecord(number, column, IssueAction.REPAIRED, reason, text))

    def state(self, number: int, raw: str | None) -> State | None:
        """The state a `state` cell names: misspellings repaired, unknown ones rejected."""
        state, guessed = lookup_state(raw)
        if state is None:
            self.reject(number, "state", "unknown state", raw)
        elif guessed:
            self.repair(number, "state", f"misspelled state read as {state.name}", raw)
        return state


def csv_records(
    label: str, data: bytes, required: Sequence[str]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line number, cleaned values by snake_case column) for each non-blank row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(label, f"not UTF-8 text (byte {exc.start}); is this a CSV file?") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [name_key(h).lower().replace(" ", "_") for h in (reader.fieldnames or [])]
    missing = [column for column in required if column not in header]
    if missing:
        raise LoadError(label, f"missing required column(s): {', '.join(missing)}")
    reader.fieldnames = header
    try:
        for number, raw in enumerate(reader, start=2):
            values = {k: clean_text(v) for k, v in raw.items() if k is not None}
            if any(values.values()):
                yield number, values
    except csv.Error as exc:
        raise LoadError(label, f"malformed CSV: {exc}") from exc


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date; raises ValueError for anything else (the caller rejects the row)."""
    return dt.date.fromisoformat(value) if value else None


Merge = Callable[[AsyncConnection, int, list[Row], list[IssueRecord]], Awaitable[LoadCounts]]


async def load_csv_document(
    target: AsyncEngine | AsyncConnection,
    document: SourceDocument,
    *,
    dataset: str,
    parse: Callable[[str, bytes], ParsedCsv[Row]],
    merge: Merge[Row],
    also_lock: Sequence[str] = (),
) -> tuple[int | None, LoadCounts]:
    """(load run id, counts); the run id is None when these exact bytes were loaded before.
    `merge` may append issues it finds against the database (e.g. unknown agencies).
    `also_lock` names other datasets whose records `merge` rewrites: their locks are taken
    here, before the change-sequence lock `begin_load` takes (always that order)."""
    started = dt.datetime.now(dt.UTC)
    parsed = parse(document.label, document.data)
    if parsed.rows_read == 0:
        raise LoadError(document.label, "the file has no data rows")
    async with file_transaction(target) as conn:
        for name in sorted({dataset, *also_lock}):
            await lock_dataset(conn, name)
        if await find_load_of(conn, dataset, document.sha256) is not None:
            return None, LoadCounts(rows_read=parsed.rows_read, unchanged=len(parsed.rows))
        start = await begin_load(
            conn,
            dataset=dataset,
            source=document.facts(),
            started_at=started,
        )
        issues = list(parsed.issues)
        counts = await merge(conn, start.load_run_id, parsed.rows, issues)
        counts.rows_read = parsed.rows_read
        await finish_load(conn, start.load_run_id, counts, issues)
        return start.load_run_id, counts


LoadDocument = Callable[[AsyncEngine, SourceDocument], Awaitable[tuple[int | None, LoadCounts]]]


def add_csv_document_command(
    kinds: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str,
    load: LoadDocument,
    summary: Callable[[LoadCounts], str],
) -> None:
    """`load NAME SOURCE` for a CSV document (file or URL): read it, load it with `load`
    on a migrated database, and print `NAME: summary(counts)` (after a note when these
    exact bytes were loaded before)."""
    parser = kinds.add_parser(name, help=help, description=description)
    parser.add_argument("source", metavar="SOURCE")

    async def run(args: argparse.Namespace) -> int:
        document = await read_one(args.source, get_settings())
        async with migrated_engine() as engine:
            run_id, counts = await load(engine, document)
        if run_id is None:
            print(f"{document.name}: already loaded (same sha256), nothing changed")
        print(f"{name}: {summary(counts)}")
        return 0

    parser.set_defaults(handler=command(run))


def counted(inserted: str, updated: str) -> Callable[[LoadCounts], str]:
    """A command's summary: rows read, inserted and updated (under these words), rejected."""
    return lambda counts: (
        f"{counts.rows_read} rows, {counts.inserted} {inserted}, "
        f"{counts.updated} {updated}, {counts.rejected} rejected"
    )


@dataclass(frozen=True)
class CsvSource(Generic[Row]):
    """A small CSV source declared once: its dataset (also its `load` command's name), how
    its rows are parsed and merged, the datasets it rewrites besides its own (`also_lock`,
    see load_csv_document), its command's words and how its rows go when its files are
    removed (by default with their load runs, `ON DELETE CASCADE`)."""

    dataset: str
    parse: Callable[[str, bytes], ParsedCsv[Row]]
    merge: Merge[Row]
    help: str
    description: str
    summary: Callable[[LoadCounts], str] = LoadCounts.summary
    also_lock: tuple[str, ...] = ()
    remove: RemovalStep | None = rows_go_with_their_runs

    @property
    def source(self) -> Source:
        return Source(self.dataset, self.add_command, self.remove)

    async def load(
        self, target: AsyncEngine | AsyncConnection, document: SourceDocument
    ) -> tuple[int | None, LoadCounts]:
        return await load_csv_document(
            target,
            document,
            dataset=self.dataset,
            parse=self.parse,
            merge=self.merge,
            also_lock=self.also_lock,
        )

    def add_command(self, kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        add_csv_document_command(
            kinds,
            self.dataset,
            help=self.help,
            description=self.description,
            load=self.load,
            summary=self.summary,
        )
