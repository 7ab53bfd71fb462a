"""Query parameters: declared once per endpoint (the OpenAPI document lists the same
declarations), parsed strictly: an unknown, repeated or malformed parameter is a 400.

Hostile input is refused before any work: every value has a length bound (strings
`max_length`, integers and dates too), integers are ASCII
digits only (Python's `int()` also takes `١٠`, `1_000` and ` 7 `), NUL is refused
everywhere, and an error message quotes at most `ECHO_CHARS` of what the client sent.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from starlette.requests import Request

from open287g.db.queries.filters import Filter, Filters, Ordering, Where
from open287g.db.queries.ids import MAX_ID_CHARS
from open287g.web.problems import Problem

MAX_STRING = 200  # default bound of a string parameter (names, `q`, codes)
MAX_PARAMS = 32  # more query parameters than any endpoint takes is not a mistake
ECHO_CHARS = 40
_INTEGER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
W = TypeVar("W", bound=Where)
E = TypeVar("E", bound=enum.StrEnum)


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
    max_length: int = MAX_STRING


def shown(raw: str) -> str:
    """The client's text as quoted in an error: bounded, so an error never amplifies."""
    return repr(raw if len(raw) <= ECHO_CHARS else raw[:ECHO_CHARS] + "…")


def parse_params(request: Request, declared: Sequence[Param]) -> dict[str, Any]:
    return parse_query(request.query_params.multi_items(), declared)


def parse_query(items: Sequence[tuple[str, str]], declared: Sequence[Param]) -> dict[str, Any]:
    """The values of a query string's (name, value) pairs, or a Problem (400)."""
    known = {param.name: param for param in declared}
    values: dict[str, Any] = {param.name: param.default for param in declared}
    seen: set[str] = set()
    if len(items) > MAX_PARAMS:
        raise Problem(400, f"too many query parameters ({len(items)}; at most {MAX_PARAMS})")
    for name, raw in items:
        param = known.get(name)
        if param is None:
            listing = ", ".join(sorted(known)) or "none"
            raise Problem(400, f"unknown parameter {shown(name)}; this endpoint takes: {listing}")
        if name in seen:
            raise Problem(400, f"parameter {name!r} given more than once")
        seen.add(name)
        if raw == "" and not param.required:
            # `state=` (a field an HTML form left blank) is the same as no `state`;
            # OpenAPI says so with `allowEmptyValue` (openapi.py).
            continue
        values[name] = _convert(param, raw)
    missing = [param.name for param in declared if param.required and param.name not in seen]
    if missing:
        raise Problem(400, f"missing required parameter(s): {', '.join(missing)}")
    return values


def _convert(param: Param, raw: str) -> Any:
    if "\x00" in raw:
        raise Problem(400, f"{param.name} cannot contain a NUL character")
    if len(raw) > param.max_length:
        raise Problem(
            400, f"{param.name} is too long ({len(raw)} characters; at most {param.max_length})"
        )
    if param.kind == "integer":
        if not _INTEGER.fullmatch(raw):
            raise Problem(
                400, f"{param.name} must be a whole number in ASCII digits, got {shown(raw)}"
            )
        value: Any = int(raw)
        low, high = param.minimum, param.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise Problem(400, f"{param.name} must be between {low} and {high}, got {value}")
        return value
    if param.kind == "date":
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise Problem(
                400, f"{param.name} must be a date YYYY-MM-DD, got {shown(raw)}"
            ) from None
    if param.enum:
        value = raw.upper() if param.enum[0].isupper() else raw
        if value not in param.enum:
            options = ", ".join(param.enum)
            raise Problem(400, f"{param.name} must be one of {options}, got {shown(raw)}")
        return value
    return raw


LIMIT = Param("limit", "integer", "Rows per page.", minimum=1, maximum=1000, default=100)
CURSOR = Param(
    "cursor", "string", "The `next_cursor` of the previous page (opaque).", max_length=512
)
FORMAT = Param(
    "format",
    "string",
    "json (pages), or csv / ndjson: the whole filtered collection.",
    enum=("json", "csv", "ndjson"),
    default="json",
)
STATE = Param("state", "string", "USPS code (TX) or state name, any case.")


def filter_params(filters: Filters) -> tuple[Param, ...]:
    """The query parameters of a collection's declared filters REST offers, in order."""
    return tuple(_filter_param(f) for f in filters.rest)


def _filter_param(f: Filter) -> Param:
    name = f.rest_name
    assert name is not None, f.name
    if f.kind == "date":
        return Param(name, "date", f"{f.description} A date, YYYY-MM-DD.")
    if f.kind == "enum":
        assert f.enum is not None, f.name
        return Param(name, "string", f.description, enum=tuple(f.enum))
    if f.kind == "id":
        return Param(name, "string", f.description, max_length=MAX_ID_CHARS)
    return Param(name, "string", f.description)


def read_filters(where: type[W], values: Mapping[str, Any]) -> W:
    """The query layer's filter of a request's parsed parameters (`Where.read`)."""
    return where.read({f.name: values[f.rest_name] for f in where.declared.rest if f.rest_name})


def sort_param(orders: Mapping[E, Ordering], default: E) -> Param:
    """`sort`: the orderings REST offers (`Ordering.rest`), by their lower-case names."""
    offered = [(key.value.lower(), order) for key, order in orders.items() if order.rest]
    words = " ".join(
        f"`{name}`{' (the default)' if name == default.value.lower() else ''}: {order.meaning}"
        for name, order in offered
    )
    return Param(
        "sort",
        "string",
        words,
        enum=tuple(name for name, _ in offered),
        default=default.value.lower(),
    )
