"""Observation: one ICE list that named an agreement, the values its row gave, and the
file it came from. Paged in the order and with the cursors of REST's
`/v1/agreements/{id}/observations` (`db/queries/observations.py`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from open287g.db.entities.dataset import FILES
from open287g.db.entities.declare import (
    Column,
    ConnectionOrder,
    Entity,
    GlobalId,
    Relation,
    RestColumn,
    gid_sql,
    isoformat_sql,
)
from open287g.db.models.enums import AgencyType, SnapshotKind
from open287g.db.queries import observations
from open287g.db.queries.pagination import Keyset, PageQuery, decode_cursor


def observations_of(alias: str) -> str:
    """Every observation with its snapshot's and file's columns, as one row `alias`
    (PostgreSQL flattens the subquery: the joins keep their indexes)."""
    return (
        "(SELECT o.*, s.kind, s.published_on, s.published_at,"
        " s.source_file_id AS dataset_id, f.fetched_at"
        " FROM agreement_observations o JOIN snapshots s ON s.id = o.snapshot_id"
        f" JOIN source_files f ON f.id = s.source_file_id) {alias}"
    )


def _after(keyset: Keyset) -> tuple[str, dict[str, Any]]:
    condition = observations.AFTER.format(
        published="{c}.published_at", fetched="{c}.fetched_at", snapshot="{c}.snapshot_id"
    )
    return condition, observations.after_values(keyset)


# Publication time, fetch time, snapshot id; the cursor's value is "published|fetched".
OBSERVATION_ORDER = ConnectionOrder(
    order="{c}.published_at, {c}.fetched_at, {c}.snapshot_id",
    value=f"{isoformat_sql('{c}.published_at')} || '|' || {isoformat_sql('{c}.fetched_at')}",
    id="{c}.snapshot_id",
    after=_after,
)

OBSERVATION = Entity(
    name="Observation",
    table=observations_of("{t}"),
    # Not a node; the key only lets the fallback resolvers find the row again.
    key="{t}.snapshot_id || ':' || {t}.agreement_id",
    key_type=str,
    node=False,
    description="One ICE list that named the agreement, the values its row gave, and the "
    "file it came from (`dataset`: name, URL, sha256).",
    columns=(
        Column(
            "agreement_id",
            gid_sql("Agreement", "{t}.agreement_id"),
            GlobalId,
            "The agreement's id.",
            graphql=False,
        ),
        Column("published_on", "{t}.published_on", dt.date, "The list's publication date."),
        Column("kind", "{t}.kind", SnapshotKind, "PARTICIPATING or PENDING list."),
        Column("row_number", "{t}.row_number", int, "The row in the file (1 = first row)."),
        Column("agency_name", "{t}.agency_name", str, "The agency name as the row wrote it."),
        Column("agency_type", "{t}.agency_type", AgencyType, "The agency type the row gave."),
        Column("county", "{t}.county", str | None, "The county as the row wrote it."),
        Column(
            "signed_on",
            "{t}.signed_on",
            dt.date | None,
            "The signing date the row gave, when readable.",
        ),
        Column(
            "signed_raw",
            "{t}.signed_raw",
            str | None,
            "The date text as ICE wrote it, when it could not be served as a date.",
        ),
        Column("moa_url", "{t}.moa_url", str | None, "The MOA link the row gave."),
        Column(
            "addendum_urls",
            "to_json({t}.addendum_urls)",
            list[str],
            "The addendum links the row gave.",
        ),
        Column(
            "dataset_id",
            gid_sql("Dataset", "{t}.dataset_id"),
            GlobalId,
            "The source file's id (datasets).",
        ),
    ),
    # REST's row (/v1/agreements/{id}/observations, its CSV and NDJSON), in column order.
    rest=(
        RestColumn("agreement_id"),
        RestColumn("published_on"),
        RestColumn("kind"),
        RestColumn("dataset_id"),
        RestColumn("file_name", "dataset.name", "The source file as loaded."),
        RestColumn("sha256", "dataset.sha256", "The source file's SHA-256."),
        *(
            RestColumn(name)
            for name in (
                "row_number",
                "agency_name",
                "agency_type",
                "county",
                "signed_on",
                "signed_raw",
                "moa_url",
                "addendum_urls",
            )
        ),
    ),
    relations=(
        Relation(
            "dataset",
            "Dataset",
            "one",
            f"{FILES} {{c}} WHERE {{c}}.id = {{t}}.dataset_id",
            nullable=False,
            description="The source file: its name, URL, sha256 and load run.",
        ),
    ),
)


def rest_page(agreement_id: int, after: str | None) -> PageQuery:
    """REST's page of one agreement's observations (`/v1/agreements/{id}/observations`):
    the rows after the cursor (BadCursor for one this API did not write), in
    `OBSERVATION_ORDER`, each with its `sort_value` and `id` (the snapshot's); the
    statement showing the page limits them."""
    params: dict[str, object] = {"agreement_id": agreement_id}
    condition = "true"
    if after:
        condition, values = _after(decode_cursor(after, observations.ORDERING))
        params.update(values)
    return PageQuery(
        ctes="",
        rows=(
            f"SELECT x.*, {OBSERVATION_ORDER.value.format(c='x')} AS sort_value,"
            f" {OBSERVATION_ORDER.id.format(c='x')} AS id FROM {observations_of('x')}"
            f" WHERE x.agreement_id = :agreement_id AND {condition.format(c='x')}"
            f" ORDER BY {OBSERVATION_ORDER.order.format(c='x')}"
        ),
        count="SELECT count(*) FROM agreement_observations WHERE agreement_id = :agreement_id",
        params=params,
    )
