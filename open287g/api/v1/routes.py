"""/v1 endpoints. Each is declared once, as an `Endpoint` (path, parameters, row model);
the routes and the OpenAPI document are both generated from these declarations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.v1 import compiled, history, models, quality
from open287g.api.v1.documents import DOCUMENTS, DocumentTextRow, document_text
from open287g.api.v1.resource import Collection, Statistic, StatQuery
from open287g.api.v1.resources import AGREEMENT_FILTERS, RESOURCES, agreement_filter
from open287g.config import Settings
from open287g.db.entities.declare import Entity
from open287g.db.entities.statistics import AGREEMENT_STAT, DETAINER_STAT
from open287g.db.queries import agreements, changes, detainers
from open287g.db.queries.bounds import MAX_LIST_ITEMS
from open287g.db.queries.ids import BadId, from_global_id, to_global_id
from open287g.db.session import export_snapshot
from open287g.web.params import (
    CURSOR,
    FORMAT,
    LIMIT,
    Param,
    filter_params,
    parse_params,
    read_filters,
    shown,
)
from open287g.web.problems import Problem
from open287g.web.responses import (
    app_settings,
    envelope,
    export_response,
    json_response,
    next_link,
    versioned,
)

Kind = Literal["collection", "item", "stats", "changes", "report"]


@dataclass(frozen=True)
class Endpoint:
    path: str
    summary: str
    kind: Kind
    params: tuple[Param, ...]
    model: type[BaseModel]
    handler: Callable[[Request], Awaitable[Response]]
    tag: str


def collection_endpoint(resource: Collection) -> Endpoint:
    declared = (*resource.filters, LIMIT, CURSOR, FORMAT)
    return Endpoint(
        f"/v1/{resource.name}",
        f"List {resource.name} (cursor pages, or a whole export)",
        "collection",
        declared,
        resource.model,
        compiled.collection_handler(resource, declared),
        resource.name,
    )


def _key_of(resource: Collection) -> Callable[[Request], Any]:
    """The request's key of a `resource` item, typed; a 404 for any other id."""

    def key(request: Request) -> Any:
        global_id = request.path_params["id"]
        try:
            type_name, key = from_global_id(global_id)
        except BadId:
            type_name, key = "", ""
        if type_name != resource.type_name or (resource.key_is_int and not key.isdigit()):
            raise Problem(404, f"no {resource.type_name} with id {shown(global_id)}")
        return int(key) if resource.key_is_int else key

    return key


def item_endpoint(resource: Collection) -> Endpoint:
    key_of = _key_of(resource)

    async def handler(request: Request) -> Response:
        parse_params(request, ())
        typed_key = key_of(request)
        async with request.app.state.engine.connect() as conn:
            version, headers, cached = await versioned(request, conn)
            if cached is not None:
                return cached
            row = await compiled.item_row(resource, conn, typed_key)
        if row is None:
            global_id = request.path_params["id"]
            raise Problem(404, f"no {resource.type_name} with id {shown(global_id)}")
        return json_response(envelope(version, data=row), headers)

    return Endpoint(
        f"/v1/{resource.name}/{{id}}",
        f"One {resource.type_name} by id",
        "item",
        (),
        resource.item_model or resource.model,
        handler,
        resource.name,
    )


def _group_by_param(dimensions: type[Any]) -> Param:
    names = "|".join(d.value.lower() for d in dimensions)
    return Param(
        "group_by",
        "string",
        f"Comma-separated dimensions, at most {MAX_LIST_ITEMS}: "
        f"{', '.join(d.value.lower() for d in dimensions)}.",
        required=True,
        pattern=f"^({names})(,({names})){{0,{MAX_LIST_ITEMS - 1}}}$",
    )


def _group_by(raw: str | None, allowed: type[Any], example: str) -> list[Any]:
    """The dimensions of `group_by`; `example` is one of this endpoint's own."""
    names = [part.strip().upper() for part in (raw or "").split(",") if part.strip()]
    if not names:
        raise Problem(400, f"group_by is required, e.g. group_by={example}")
    try:
        return [allowed(name) for name in names]
    except ValueError:
        options = ", ".join(d.value.lower() for d in allowed)
        raise Problem(400, f"group_by takes: {options}; got {raw!r}") from None


def statistic_endpoint(stat: Statistic) -> Endpoint:
    """A statistic's endpoint: one handler for every statistic (`Statistic`)."""
    declared = (_group_by_param(stat.dimensions), *stat.params)

    async def handler(request: Request) -> Response:
        values = parse_params(request, declared)
        group_by = _group_by(values["group_by"], stat.dimensions, stat.example)
        query = stat.query(app_settings(request), values, group_by)
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            version, headers, cached = await versioned(request, conn)
            if cached is not None:
                return cached
            if query.check is not None:
                await query.check(conn)
            headers = {**headers, **(query.headers or {})}
            if values["format"] == "json":
                data = [row async for batch in query.rows(conn) for row in batch]
                return json_response(envelope(version, data=data), headers)

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            async with export_snapshot(engine) as conn:
                async for batch in query.rows(conn):
                    yield batch

        columns = [*(d.value.lower() for d in dict.fromkeys(group_by)), *stat.columns]
        filename = f"open287g-{stat.name.removesuffix('s')}-stats-v{version.version}"
        fmt = values["format"]
        return await export_response(request, fmt, columns, batches(), filename, headers)

    return Endpoint(
        f"/v1/stats/{stat.name}", stat.summary, "stats", declared, stat.model, handler, "stats"
    )


def _keys(key: Mapping[Any, object]) -> dict[str, object]:
    return {d.value.lower(): v for d, v in key.items()}


def _agreement_stats(settings: Settings, values: dict[str, Any], group_by: list[Any]) -> StatQuery:
    filters = agreement_filter(values)
    count_by = agreements.AgreementCountBy(values["count_by"].upper())

    async def rows(conn: AsyncConnection) -> AsyncIterator[list[dict[str, Any]]]:
        found = await agreements.agreement_stats(conn, group_by, filters, count_by)
        yield [{**_keys(key), "count": n} for key, n in found]  # a few hundred rows at most

    return StatQuery(rows)


def _detainer_stats(settings: Settings, values: dict[str, Any], group_by: list[Any]) -> StatQuery:
    filters = read_filters(detainers.DetainerFilter, values)
    # The app's settings, not the environment's.
    min_cell, min_margin = settings.min_cell, settings.min_margin
    rounded = bool(detainers.PERSONAL_DIMENSIONS & set(group_by))
    bound = detainers.perturbation_bound(rounded, min_cell)

    async def rows(conn: AsyncConnection) -> AsyncIterator[list[dict[str, Any]]]:
        async for batch in detainers.detainer_stat_batches(
            conn, group_by, filters, min_cell=min_cell, min_margin=min_margin
        ):
            yield [
                {**_keys(r.key), **{name: getattr(r, name) for name in DETAINER_STATS.columns}}
                for r in batch
            ]

    return StatQuery(rows, filters.check_ids, {detainers.BOUND_HEADER: str(bound)})


AGREEMENT_STATS = Statistic(
    "agreements",
    "Agreement counts grouped by dimensions",
    AGREEMENT_STAT,
    models.AgreementStatRow,
    agreements.AgreementDimension,
    "state,model",
    (
        *AGREEMENT_FILTERS,
        FORMAT,
        Param(
            "count_by",
            "string",
            "lineages (default): each agreement once, however many names, states or models "
            "ICE listed it under, with its current status and first signing date; list_rows: "
            "every agreement record the lists carried.",
            enum=tuple(c.value.lower() for c in agreements.AgreementCountBy),
            default="lineages",
        ),
    ),
    _agreement_stats,
)
DETAINER_STATS = Statistic(
    "detainers",
    "Detainer statistics (breakdowns by a personal attribute are rounded)",
    DETAINER_STAT,
    models.DetainerStatRow,
    detainers.DetainerDimension,
    "state,month",
    (*filter_params(detainers.DETAINER_FILTERS), FORMAT),
    _detainer_stats,
)


CHANGES_PARAMS = (
    Param(
        "since",
        "integer",
        "A `next_since` (or data_version) from an earlier call; 0 for everything.",
        minimum=0,
        maximum=2**63 - 1,  # a PostgreSQL bigint, like the sequence itself
        default=0,
    ),
    Param("limit", "integer", "Changes per page.", minimum=1, maximum=1000, default=500),
)
_ENTITY_RESOURCES = {
    "agreement": "agreements",
    "agency": "agencies",
    "jurisdiction": "jurisdictions",
    "detainer_facility": "facilities",
    "policy": "policies",
    "program_model": "program-models",
    "dataset": "datasets",
    # A release's detainer statistics changed (loaded, or months a newer release replaced):
    # the entry carries the release's dataset id and /v1/datasets record.
    "detainer_release": "datasets",
}
# What the feed emits: every entity with a record (officials, reached only through
# GraphQL's Agency.officials, have none and are left out).
FEED_ENTITIES = (*_ENTITY_RESOURCES, "document")


async def change_rows(
    conn: AsyncConnection, found: list[changes.ChangeRecord]
) -> list[dict[str, Any]]:
    """Each change with the record as it is now (tombstones carry none): the rows of every
    changed record in one statement."""
    collections = {kind: RESOURCES[name] for kind, name in _ENTITY_RESOURCES.items()}
    collections["document"] = DOCUMENTS  # mirrored like the others: /v1/documents/{id}
    keys: dict[Entity, set[Any]] = {}
    for c in found:
        if c.op == "UPSERT" and c.entity in collections:
            keys.setdefault(collections[c.entity].entity, set()).add(c.key)
    records = await compiled.records(conn, {e: sorted(k, key=str) for e, k in keys.items()})
    return [
        {
            "seq": c.seq,
            "entity": c.entity,
            "id": to_global_id(collections[c.entity].type_name, c.key)
            if c.entity in collections
            else f"{c.entity}:{c.entity_id}",
            "op": c.op,
            "changed_at": c.changed_at,
            "record": records.get((collections[c.entity].type_name, c.key))
            if c.entity in collections
            else None,
        }
        for c in found
    ]


async def change_feed(request: Request) -> Response:
    values = parse_params(request, CHANGES_PARAMS)
    async with request.app.state.engine.connect() as conn:
        version, headers, cached = await versioned(request, conn)
        if cached is not None:
            return cached
        since = values["since"]
        if version.oldest_retained and since < version.oldest_retained - 1:
            raise Problem(
                410,
                f"changes before {version.oldest_retained} are no longer kept; re-sync from a "
                "full export (?format=ndjson on each collection), then follow "
                f"/v1/changes?since={version.version}",
                oldest_retained=version.oldest_retained,
            )
        found = await changes.changes_since(conn, since, values["limit"] + 1, FEED_ENTITIES)
        shown = found[: values["limit"]]
        data = await change_rows(conn, shown)
    next_since = shown[-1].seq if shown else since
    if len(found) > values["limit"]:
        headers["Link"] = next_link(request, "since", str(next_since))
    body = envelope(
        version, data=data, next_since=next_since, has_more=len(found) > values["limit"]
    )
    return json_response(body, headers)


ENDPOINTS: list[Endpoint] = [
    *(collection_endpoint(r) for r in RESOURCES.values()),
    *(item_endpoint(r) for r in RESOURCES.values()),
    collection_endpoint(DOCUMENTS),
    item_endpoint(DOCUMENTS),
    Endpoint(
        "/v1/documents/{id}/text",
        "The text of every page of one MOA document, and how it was read",
        "item",
        (),
        DocumentTextRow,
        document_text,
        "documents",
    ),
    Endpoint(
        "/v1/agreements/{id}/observations",
        "Every ICE list that named one agreement: the row's values and the source file",
        "collection",
        history.PARAMS,
        history.ObservationRow,
        history.agreement_observations,
        "agreements",
    ),
    Endpoint(
        "/v1/quality",
        "Data-quality report: repairs, rejections and cross-check flags",
        "report",
        quality.PARAMS,
        quality.QualityReportRow,
        quality.quality_report,
        "quality",
    ),
    statistic_endpoint(AGREEMENT_STATS),
    statistic_endpoint(DETAINER_STATS),
    Endpoint(
        "/v1/changes",
        "Changes since a token: upserts with current records, and tombstones",
        "changes",
        CHANGES_PARAMS,
        models.ChangeRow,
        change_feed,
        "sync",
    ),
]
