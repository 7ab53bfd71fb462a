"""Operations endpoints: liveness (process up) and readiness (database and schema)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from open287g.db.errors import RETRY_AFTER_SECONDS
from open287g.db.migrate import current_revisions, head_revisions
from open287g.db.queries.freshness import Freshness, StaleRule, freshness

READY_TIMEOUT_SECONDS = 3.0
RETRY_LATER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def readyz(request: Request) -> Response:
    """200 only when the database answers and its schema is at the migrations' head;
    `status` is `stale` when the sync has failed `OPEN287G_SYNC_STALE_AFTER` passes in a row
    or has not succeeded for that many intervals."""
    engine = request.app.state.engine
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await current_revisions(conn)
            fresh = await freshness(conn) if current == head_revisions() else Freshness()
    except Exception as exc:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__},
            status_code=503,
            headers=RETRY_LATER,
        )
    heads = head_revisions()
    if current != heads:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "schema": "behind",
                "current": sorted(current),
                "head": sorted(heads),
                "hint": "run `open287g db migrate`",
            },
            status_code=503,
            headers=RETRY_LATER,
        )
    # The cache is optional: its state is reported, never a reason to be unready (a cache
    # outage degrades to uncached answers).
    cache = request.app.state.response_cache.status()
    body: dict[str, Any] = {"status": "ok", "database": "ok", "schema": "head", "cache": cache}
    # How current the data is with ICE (`open287g sync`). Stale is said, not a 503: the
    # last good lists keep being served, and an orchestrator must not restart the API
    # because ICE's site is down; monitors read `status` and `freshness`.
    rule = StaleRule.of(request.app.state.settings)
    body["freshness"] = fresh.as_json(rule)
    if body["freshness"]["status"] == "stale":
        body["status"] = "stale"
    # With a read replica: where reads go and its lag. A replica that is out is not a
    # reason to be unready either: reads go to the primary meanwhile (checked above).
    router = getattr(request.app.state, "read_router", None)
    if router is not None:
        body["replica"] = router.status()
    return JSONResponse(body)
