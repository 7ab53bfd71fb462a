"""Catalogs for portals and harvesters: DCAT-US 1.1 (/data.json), a Frictionless data
package (/datapackage.json), an Atom feed of changes, and Prometheus metrics."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.atom import Feed, atom_feed
from open287g.api.v1.documents import DOCUMENTS
from open287g.api.v1.models import AgreementStatRow, DetainerStatRow
from open287g.api.v1.resources import RESOURCES
from open287g.config import Settings, get_settings
from open287g.db.queries import agreements, changes, detainers, reference
from open287g.db.queries.freshness import StaleRule, freshness
from open287g.web.observability import replica_metrics, sync_metrics
from open287g.web.params import Param, parse_params
from open287g.web.responses import cache_headers, etag_for

SOURCES = {
    "ice-287g": (
        "ICE 287(g) participating and pending agencies",
        "Agencies with 287(g) agreements with ICE, by program model, from ICE's "
        "published spreadsheets, with every snapshot's history.",
        "agreements",
    ),
    "policies": (
        "Jurisdiction policies on cooperation with ICE",
        "Dated, cited claims that a jurisdiction restricts, limits or mandates cooperation.",
        "policies",
    ),
    "detainers": (
        "ICE detainer statistics (aggregates)",
        "Detainers issued, declined and honored by month and facility; breakdowns by "
        "personal attributes rounded (docs/disclosure.md, served at /docs/disclosure). The "
        "distributions are the facilities with their exact totals (/v1/facilities); every "
        "breakdown is at /v1/stats/detainers.",
        "facilities",
    ),
    "moas": (
        "287(g) memoranda of agreement (MOA documents)",
        "ICE's signed MOAs and addenda: each file with its sha256, pages, signatories and "
        "the agreements it belongs to, and the text of every page (/v1/documents/{id}/text).",
        "documents",
    ),
    "officials": (
        "Officials in charge of agencies",
        "Sheriffs and chiefs by agency and term.",
        "agencies",
    ),
}
# Table Schema types of the Python types of the row models, as the CSV exports write them.
_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    dt.date: "date",
    dt.datetime: "datetime",
}
ATOM_ENTRIES = 100


def _settings(request: Request) -> Settings:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings or get_settings()


def _base(request: Request) -> str:
    """Absolute links come from the configured public URL, never from the request's Host
    header (a client could point every cached document at its own site)."""
    return _settings(request).public_url.rstrip("/")


def publisher_and_contact(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """DCAT's `publisher` and `contactPoint`, from the deployment's settings
    (OPEN287G_PUBLISHER_NAME, OPEN287G_PUBLISHER_URL, OPEN287G_CONTACT_NAME,
    OPEN287G_CONTACT_EMAIL): whoever runs a copy answers for it, not this project."""
    publisher = {"@type": "org:Organization", "name": settings.publisher_name}
    if settings.publisher_url:
        publisher["url"] = settings.publisher_url
    contact = {
        "@type": "vcard:Contact",
        "fn": settings.contact_name,
        "hasEmail": f"mailto:{settings.contact_email}",
    }
    return publisher, contact


def modified_of(loaded: list[reference.DatasetRecord]) -> str:
    """When a dataset last changed, from the data: the date of its newest list (an ICE
    snapshot's publication date), else the day its newest file was fetched (policies and
    detainer releases carry no list date). Not the load's date: reloading old files
    changes nothing a harvester cares about."""
    listed = [f.snapshot_date for f in loaded if f.snapshot_date is not None]
    if listed:
        return max(listed).isoformat()
    return max(f.fetched_at for f in loaded).date().isoformat()


def _temporal(loaded: list[reference.DatasetRecord]) -> dict[str, str]:
    """DCAT-US `temporal` (start/end) where the files state the dates they cover (detainer
    releases: their rows' first and last detainer dates)."""
    starts = [f.coverage_start for f in loaded if f.coverage_start is not None]
    ends = [f.coverage_end for f in loaded if f.coverage_end is not None]
    if not starts or not ends:
        return {}
    return {"temporal": f"{min(starts).isoformat()}/{max(ends).isoformat()}"}


async def data_json(request: Request) -> Response:
    base = _base(request)
    publisher, contact = publisher_and_contact(_settings(request))
    async with request.app.state.engine.connect() as conn:
        files = await reference.datasets(conn)
    datasets: list[dict[str, Any]] = []
    for key, (title, description, collection) in SOURCES.items():
        loaded = [f for f in files if f.dataset == key]
        if not loaded:
            continue
        modified = modified_of(loaded)
        labels = []
        if any(f.is_demo for f in loaded):
            labels.append("DEMO DATA (invented, not real)")
        if any(f.is_synthetic for f in loaded):
            labels.append("SYNTHETIC TEST DATA (not real)")
        distributions = [
            {
                "@type": "dcat:Distribution",
                "title": "GraphQL API",
                "accessURL": f"{base}/graphql",
                "format": "API",
            }
        ]
        if collection:
            url = f"{base}/v1/{collection}"
            distributions += [
                {
                    "@type": "dcat:Distribution",
                    "title": "CSV export",
                    "downloadURL": f"{url}?format=csv",
                    "mediaType": "text/csv",
                },
                {
                    "@type": "dcat:Distribution",
                    "title": "NDJSON export",
                    "downloadURL": f"{url}?format=ndjson",
                    "mediaType": "application/x-ndjson",
                },
                {
                    "@type": "dcat:Distribution",
                    "title": "REST API",
                    "accessURL": url,
                    "format": "API",
                    "conformsTo": f"{base}/openapi.json",
                },
            ]
        datasets.append(
            {
                "@type": "dcat:Dataset",
                "title": " — ".join([title, *labels]),
                "description": " ".join([description, *labels]),
                "keyword": ["287(g)", "immigration", "ICE", "law enforcement", key],
                "modified": modified,
                **_temporal(loaded),
                "publisher": publisher,
                "contactPoint": contact,
                "identifier": f"{base}/data.json#{key}",
                "accessLevel": "public",
                "license": "https://creativecommons.org/publicdomain/zero/1.0/",
                "distribution": distributions,
                "references": sorted({f.url for f in loaded if f.url and "://" in f.url})[:20],
            }
        )
    catalog = {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": datasets,
    }
    return Response(orjson.dumps(catalog), media_type="application/json")


# Columns that refer to another resource's `id` (checked by frictionless).
_FOREIGN_KEYS = {
    "agreements": (
        ("agency_id", "agencies"),
        ("predecessor_id", "agreements"),
        ("successor_id", "agreements"),
    ),
    "agencies": (("jurisdiction_id", "jurisdictions"),),
    "jurisdictions": (("parent_id", "jurisdictions"),),
    "facilities": (("jurisdiction_id", "jurisdictions"), ("agency_id", "agencies")),
    "policies": (("jurisdiction_id", "jurisdictions"),),
}


def _field(name: str, annotation: Any, description: str | None) -> dict[str, Any]:
    """One Table Schema field. Optional columns are empty cells in the CSV; lists are
    written space-separated (CSV exports), so they are strings here, not `array`, which
    Table Schema reads as JSON."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is (
        typing.Union
    )
    base = args[0] if optional and len(args) == 1 else annotation
    field: dict[str, Any] = {"name": name, "type": _TYPES.get(base, "string")}
    is_list = typing.get_origin(base) is list
    notes = [description or "", "A space-separated list." if is_list else ""]
    if any(notes):
        field["description"] = " ".join(n for n in notes if n)
    if not optional and not is_list:
        field["constraints"] = {"required": True}
    return field


def _table_schema(name: str, model: type[BaseModel]) -> dict[str, Any]:
    fields = [
        _field(field, info.annotation, info.description)
        for field, info in model.model_fields.items()
    ]
    schema: dict[str, Any] = {"fields": fields, "primaryKey": ["id"], "missingValues": [""]}
    keys = [
        {"fields": column, "reference": {"resource": "" if target == name else target,
                                          "fields": "id"}}
        for column, target in _FOREIGN_KEYS.get(name, ())
    ]  # fmt: skip
    if keys:
        schema["foreignKeys"] = keys
    return schema


async def datapackage_json(request: Request) -> Response:
    """Every collection as a CSV resource. Paths are relative to this document (the Data
    Package way), so the package works behind any host name or proxy prefix."""
    package = {
        "profile": "data-package",
        "name": "open287g",
        "title": "open287g: the US 287(g) program as open data",
        "licenses": [
            {"name": "CC0-1.0", "path": "https://creativecommons.org/publicdomain/zero/1.0/"}
        ],
        "resources": [
            {
                "name": name,
                "path": f"v1/{name}?format=csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": _table_schema(name, resource.model),
            }
            for name, resource in {**RESOURCES, DOCUMENTS.name: DOCUMENTS}.items()
        ]
        + [
            {
                "name": name,
                "path": f"v1/stats/{endpoint}?group_by={','.join(group_by)}&format=csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "description": description,
                "schema": _stats_schema(model, group_by),
            }
            for name, (endpoint, group_by, model, description) in STATS_RESOURCES.items()
        ],
        "disclosureControl": disclosure_control(request),
    }
    return Response(orjson.dumps(package), media_type="application/json")


# Statistics as resources: one `group_by` each (every /v1/stats endpoint exports any
# `group_by` as CSV or NDJSON; OpenAPI describes them all).
STATS_RESOURCES: dict[str, tuple[str, tuple[str, ...], type[BaseModel], str]] = {
    "agreement-stats": (
        "agreements",
        ("state", "model", "status"),
        AgreementStatRow,
        "Agreements by state, program model and status (exact).",
    ),
    "detainer-stats": (
        "detainers",
        ("state", "facility", "month", "outcome"),
        DetainerStatRow,
        "Detainers by state, facility (code), month and outcome (exact). Breakdowns by "
        "criminality or citizenship are rounded within the bound of disclosureControl.",
    ),
}


def _stats_schema(model: type[BaseModel], group_by: tuple[str, ...]) -> dict[str, Any]:
    """The columns a statistics export with this `group_by` writes: its keys, then the
    model's measures (the other keys are not written)."""
    dimensions = [*agreements.AgreementDimension, *detainers.DetainerDimension]
    keys = set(model.model_fields) & {d.value.lower() for d in dimensions}
    fields = [
        _field(name, info.annotation, info.description)
        for name, info in model.model_fields.items()
        if name in group_by or name not in keys
    ]
    order = {name: i for i, name in enumerate(group_by)}
    fields.sort(key=lambda f: order.get(f["name"], len(order)))
    return {"fields": fields, "missingValues": [""]}


def disclosure_control(request: Request) -> dict[str, Any]:
    """The published bound of the detainer statistics (docs/disclosure.md), with
    the serving app's base."""
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    return {
        "method": "cell-key method with controlled rounding within each margin",
        "appliesTo": "/v1/stats/detainers and detainerStats broken down by criminality or "
        "citizenship (rounded: true); counts without them are exact",
        "base": settings.min_cell,
        "bound": detainers.perturbation_bound(True, settings.min_cell),
        "boundMeaning": "every rounded count, at every level of aggregation, is within "
        "bound of its truth; rows carry it as `bound`, REST answers as the "
        f"{detainers.BOUND_HEADER} header",
        "documentation": "/docs/disclosure",
    }


def atom_endpoint(feed: Feed) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one Atom feed, paged by `?before=SEQ` (open287g/api/atom.py)."""

    async def endpoint(request: Request) -> Response:
        before = parse_params(request, (BEFORE,))["before"]
        async with request.app.state.engine.connect() as conn:
            version = await changes.data_version(conn)
            found = await changes.changelog(conn, ATOM_ENTRIES + 1, feed.entities, before)
        updated = version.modified or dt.datetime.now(dt.UTC)
        body = atom_feed(
            feed, found[:ATOM_ENTRIES], _base(request), updated,
            before=before, more=len(found) > ATOM_ENTRIES,
        )  # fmt: skip
        # Validators from the version read with the entries (the response cache files it
        # there).
        return Response(
            body,
            media_type="application/atom+xml",
            headers=cache_headers(etag_for(request, version), version),
        )

    return endpoint


BEFORE = Param(
    "before",
    "integer",
    "Entries older than this change (RFC 5005 paging: the feed's `next` link).",
    minimum=1,
    maximum=2**63 - 1,
)


async def metrics(request: Request) -> Response:
    async with request.app.state.engine.connect() as conn:
        version = await changes.data_version(conn)
        files = await reference.datasets(conn)
        fresh = await freshness(conn)
    counts = request.app.state.request_counts
    router = getattr(request.app.state, "read_router", None)
    lines = [
        "# HELP open287g_data_version Sequence number of the latest data change.",
        "# TYPE open287g_data_version gauge",
        f"open287g_data_version {version.version}",
        "# HELP open287g_source_files Source files loaded, by dataset.",
        "# TYPE open287g_source_files gauge",
        *(
            f'open287g_source_files{{dataset="{key}"}} {sum(f.dataset == key for f in files)}'
            for key in SOURCES
        ),
        "# HELP open287g_http_requests_total HTTP requests served, by route and status.",
        "# TYPE open287g_http_requests_total counter",
        *(
            f'open287g_http_requests_total{{route="{route}",status="{status}"}} {n}'
            for (route, status), n in sorted(counts.items())
        ),
        *request.app.state.request_durations.prometheus(),
        *request.app.state.access_log.prometheus(),
        *replica_metrics(router.status() if router is not None else None),
        *sync_metrics(fresh, StaleRule.of(request.app.state.settings)),
    ]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
