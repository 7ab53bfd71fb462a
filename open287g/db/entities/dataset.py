"""Dataset: one source file and the load run that brought it in (the provenance of every
number served)."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.declare import Column, Entity, RestColumn

# Every source file with its load run, as one row source. A file is loaded once
# (identical bytes are skipped): its first load run is the one that brought it in.
FILES = (
    "(SELECT f.*, r.id AS load_run_id, r.finished_at AS loaded_at, r.rows_read, r.inserted,"
    " r.updated, r.unchanged, r.ended, r.rejected, r.repaired"
    " FROM source_files f JOIN LATERAL (SELECT * FROM load_runs r0"
    " WHERE r0.source_file_id = f.id ORDER BY r0.id LIMIT 1) r ON true)"
)

# Every column, in REST's (and CSV's) order after the id.
_COLUMNS = (
    Column(
        "dataset",
        "{t}.dataset",
        str,
        "Which source it feeds: ice-287g, policies, detainers or officials.",
    ),
    Column("name", "{t}.name", str, "The file's name."),
    Column(
        "url", "{t}.url", str | None, "Where the file was fetched from, if it came from the web."
    ),
    Column("sha256", "{t}.sha256", str, "The SHA-256 of the file's bytes."),
    Column("bytes", "{t}.bytes", int, "The file's size in bytes."),
    Column("fetched_at", "{t}.fetched_at", dt.datetime, "When the file was fetched or read."),
    Column(
        "snapshot_kind",
        "CAST({t}.snapshot_kind AS text)",
        str | None,
        "For an ICE list: PARTICIPATING or PENDING.",
    ),
    Column(
        "snapshot_date",
        "{t}.snapshot_date",
        dt.date | None,
        "For an ICE list: the date ICE published it.",
    ),
    Column(
        "coverage_start",
        "{t}.coverage_start",
        dt.date | None,
        "For a detainer release: the first detainer date of its rows (the period starts).",
    ),
    Column(
        "coverage_end",
        "{t}.coverage_end",
        dt.date | None,
        "For a detainer release: the last detainer date of its rows; a month it ends "
        "inside (rows through 14 October) is partial, not a drop.",
    ),
    Column("is_demo", "{t}.is_demo", bool, "Invented demo data, not real."),
    Column("is_synthetic", "{t}.is_synthetic", bool, "Synthetic test data, not real."),
    Column("load_run_id", "{t}.load_run_id", int, "The load run that read the file."),
    Column("loaded_at", "{t}.loaded_at", dt.datetime, "When that load run finished."),
    Column("rows_read", "{t}.rows_read", int, "Rows the load read from the file."),
    Column("inserted", "{t}.inserted", int, "Records the load added."),
    Column("updated", "{t}.updated", int, "Records the load changed."),
    Column("unchanged", "{t}.unchanged", int, "Records the file confirmed without change."),
    Column("ended", "{t}.ended", int, "Records the load ended (no longer listed)."),
    Column(
        "rejected",
        "{t}.rejected",
        int,
        "Rows refused, each with its reason (dataQuality.loadIssues).",
    ),
    Column(
        "repaired",
        "{t}.repaired",
        int,
        "Rows accepted after a documented repair (dataQuality.loadIssues).",
    ),
)

DATASET = Entity(
    name="Dataset",
    table=FILES + " {t}",
    description="A source file and the load run that brought it in.",
    columns=_COLUMNS,
    rest=(RestColumn("id"), *(RestColumn(column.name) for column in _COLUMNS)),
)

# The order `datasets` lists them in.
DATASET_ORDER = "{t}.id"
