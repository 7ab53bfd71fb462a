"""Catalogs for portals and harvesters: DCAT-US 1.1 (/data.json), a Frictionless data
package (/datapackage.json), an Atom feed of changes, and Prometheus metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

import orjson
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.v1.models import AgencyRow, AgreementRow, JurisdictionRow, PolicyRow
from open287g.api.v1.resources import RESOURCES
from open287g.db.queries import changes, reference

PUBLISHER = {"@type": "org:Organization", "name": "open287g"}
CONTACT = {
    "@type": "vcard:Contact",
    "fn": "open287g maintainers",
    "hasEmail": "mailto:open287g@example.org",
}
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
        "Detainers issued, declined and honored by month and facility; small cells suppressed.",
        None,
    ),
    "officials": (
        "Officials in charge of agencies",
        "Sheriffs and chiefs by agency and term.",
        "agencies",
    ),
}
_TYPES = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "date": "date",
    "datetime": "datetime",
    "list": "array",
    "float": "number",
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def data_json(request: Request) -> Response:
    base = _base(request)
    async with request.app.state.engine.connect() as conn:
        files = await reference.datasets(conn)
        version = await changes.data_version(conn)
    modified = (version.modified or dt.datetime.now(dt.UTC)).date().isoformat()
    datasets: list[dict[str, Any]] = []
    for key, (title, description, collection) in SOURCES.items():
        loaded = [f for f in files if f.dataset == key]
        if not loaded:
            continue
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
                "publisher": PUBLISHER,
                "contactPoint": CONTACT,
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


def _table_schema(model: Any) -> dict[str, Any]:
    fields = []
    for name, info in model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", str(info.annotation))
        kind = next((v for k, v in _TYPES.items() if k in annotation.lower()), "string")
        fields.append({"name": name, "type": kind})
    return {"fields": fields, "primaryKey": ["id"]}


async def datapackage_json(request: Request) -> Response:
    base = _base(request)
    tables = {
        "agreements": AgreementRow,
        "agencies": AgencyRow,
        "jurisdictions": JurisdictionRow,
        "policies": PolicyRow,
    }
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
                "path": f"{base}/v1/{name}?format=csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": _table_schema(model),
            }
            for name, model in tables.items()
            if name in RESOURCES
        ],
    }
    return Response(orjson.dumps(package), media_type="application/json")


async def changes_atom(request: Request) -> Response:
    """The latest 100 changes as an Atom feed, for people who watch rather than sync."""
    async with request.app.state.engine.connect() as conn:
        version = await changes.data_version(conn)
        recent = await changes.changes_since(conn, max(0, version.version - 100), 100)
    base = _base(request)
    updated = (version.modified or dt.datetime.now(dt.UTC)).isoformat()
    entries = "".join(
        f"<entry><id>{base}/v1/changes#{c.seq}</id>"
        f"<title>{escape(c.entity)} {c.entity_id} {escape(c.op)}</title>"
        f"<updated>{c.changed_at.isoformat()}</updated>"
        f"<link href='{base}/v1/changes?since={c.seq - 1}&amp;limit=1'/></entry>"
        for c in reversed(recent)
    )
    feed = (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<id>{base}/v1/changes.atom</id><title>open287g changes</title>"
        f"<updated>{updated}</updated><link rel='self' href='{base}/v1/changes.atom'/>"
        f"{entries}</feed>"
    )
    return Response(feed, media_type="application/atom+xml")


async def metrics(request: Request) -> Response:
    async with request.app.state.engine.connect() as conn:
        version = await changes.data_version(conn)
        files = await reference.datasets(conn)
    counts = request.app.state.request_counts
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
    ]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
