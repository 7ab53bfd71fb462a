"""Query parameters: declared once per endpoint (the OpenAPI document lists the same
declarations), parsed strictly: an unknown, repeated or malformed parameter is a 400."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request

from open287g.api.problems import Problem


@dataclass(frozen=True)
class Param:
    name: str
    kind: Literal["string", "integer", "date"]
    description: str
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: object = None
    required: bool = False
    pattern: str | None = None


def parse_params(request: Request, declared: Sequence[Param]) -> dict[str, Any]:
    known = {param.name: param for param in declared}
    values: dict[str, Any] = {param.name: param.default for param in declared}
    seen: set[str] = set()
    for name, raw in request.query_params.multi_items():
        param = known.get(name)
        if param is None:
            listing = ", ".join(sorted(known)) or "none"
            raise Problem(400, f"unknown parameter {name!r}; this endpoint takes: {listing}")
        if name in seen:
            raise Problem(400, f"parameter {name!r} given more than once")
        seen.add(name)
        values[name] = _convert(param, raw)
    missing = [param.name for param in declared if param.required and param.name not in seen]
    if missing:
        raise Problem(400, f"missing required parameter(s): {', '.join(missing)}")
    return values


def _convert(param: Param, raw: str) -> Any:
    if "\x00" in raw:
        raise Problem(400, f"{param.name} cannot contain a NUL character")
    if param.kind == "integer":
        try:
            value: Any = int(raw)
        except ValueError:
            raise Problem(400, f"{param.name} must be a whole number, got {raw!r}") from None
        low, high = param.minimum, param.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise Problem(400, f"{param.name} must be between {low} and {high}, got {value}")
        return value
    if param.kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise Problem(400, f"{param.name} must be a date YYYY-MM-DD, got {raw!r}") from None
    if param.enum:
        value = raw.upper() if param.enum[0].isupper() else raw
        if value not in param.enum:
            raise Problem(400, f"{param.name} must be one of {', '.join(param.enum)}, got {raw!r}")
        return value
    return raw


LIMIT = Param("limit", "integer", "Rows per page.", minimum=1, maximum=1000, default=100)
CURSOR = Param("cursor", "string", "The `next_cursor` of the previous page (opaque).")
FORMAT = Param(
    "format",
    "string",
    "json (pages), or csv / ndjson: the whole filtered collection.",
    enum=("json", "csv", "ndjson"),
    default="json",
)
STATE = Param("state", "string", "USPS code (TX) or state name, any case.")
