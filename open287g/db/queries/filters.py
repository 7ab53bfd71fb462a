"""A collection's filters and orderings, declared once.

Each `Filter` says its name, type, description, SQL predicate and which front ends offer
it; REST's query parameters (`web/params.py` `filter_params`), GraphQL's input types
(`graphql/inputs.py` `filter_input`) and the WHERE clauses of the page, count and
statistics statements are all generated from the declaration, so a filter added to it
reaches both APIs and every statement of the collection (docs/contributing.md, "How to
add a filter"). An `Ordering` likewise says a sort key's SQL, meaning and cursor type.

The values a statement binds are a `Where`: the query layer's values (a USPS code, an
enum's value, an id's integer key), read from a front end's values by `Where.read`, or
built directly by the HTML pages and tests.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_text
from open287g.db.queries.ids import check_filter_ids, optional_int_key
from open287g.db.reference_data import resolve_state

# How a filter's value is given: `state` (a USPS code or a state's name, any case),
# `text`, `date`, `enum` (one of `Filter.enum`'s values) or `id` (a global id of
# `Filter.id_type`, which must name a row: `Where.check_ids`).
Kind = Literal["state", "text", "date", "enum", "id"]
# A predicate: SQL with the filter's bound value as `:<name>`, or a function of the value
# giving the SQL and its parameters (a predicate with several).
Predicate = str | Callable[[Any], tuple[str, dict[str, object]]]
STATE_WORDS = "Only this state: a USPS code (TX) or a name, any case."


def _itself(value: Any) -> object:
    return value


@dataclass(frozen=True)
class Filter:
    """One filter. `name` is the query layer's (the value's key in a `Where`, and the
    GraphQL input field, camel-cased, unless `graphql_name` says otherwise); `rest` the
    REST parameter's name (None: GraphQL only); `graphql` False: REST only."""

    name: str
    kind: Kind
    description: str
    predicate: Predicate
    bind: Callable[[Any], object] = _itself  # the bound value, from the filter's value
    enum: type[enum.StrEnum] | None = None
    id_type: str | None = None
    rest: str | None = ""  # "": the same name as the filter
    graphql: bool = True
    graphql_name: str | None = None

    @property
    def rest_name(self) -> str | None:
        return self.name if self.rest == "" else self.rest

    def sql(self, value: object) -> tuple[str, dict[str, object]]:
        if isinstance(self.predicate, str):
            return self.predicate, {self.name: self.bind(value)}
        return self.predicate(value)

    def read(self, value: object) -> object:
        """The query layer's value of a front end's: a state's USPS code, an enum's
        value, an id's key (`BadId` for an id of another type or none of this API)."""
        if value is None:
            return None
        if self.kind == "state":
            return resolve_state(str(value))
        if self.kind == "enum":
            return value.value if isinstance(value, enum.Enum) else value
        if self.kind == "id":
            assert self.id_type is not None, self.name
            return optional_int_key(str(value), self.id_type)
        return value


@dataclass(frozen=True)
class Filters:
    """A collection's filters, in the order their conditions are written."""

    filters: tuple[Filter, ...]
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(f.name for f in self.filters))

    def __iter__(self) -> Iterator[Filter]:
        return iter(self.filters)

    @property
    def rest(self) -> tuple[Filter, ...]:
        return tuple(f for f in self.filters if f.rest_name is not None)

    @property
    def graphql(self) -> tuple[Filter, ...]:
        return tuple(f for f in self.filters if f.graphql)

    def __add__(self, other: Filters) -> Filters:
        return Filters(self.filters + other.filters)


class Where:
    """The values of a collection's declared filters (`declared`): an absent or None
    value is no condition. Text is bounded when built (`check_text`), so neither API can
    send oversized input to the database."""

    declared: ClassVar[Filters]
    __slots__ = ("values",)

    def __init__(self, **values: object) -> None:
        unknown = set(values) - self.declared.names
        if unknown:
            raise TypeError(f"{type(self).__name__} has no filter {sorted(unknown)}")
        for name, value in values.items():
            check_text(name, value)
        self.values: dict[str, object] = {n: v for n, v in values.items() if v is not None}

    @classmethod
    def read(cls, given: Mapping[str, object]) -> Self:
        """From a front end's values by filter name (`Filter.read` each)."""
        return cls(**{f.name: f.read(given.get(f.name)) for f in cls.declared})

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def replace(self, **values: object) -> Self:
        """The same filter with these values (None: that condition dropped)."""
        return type(self)(**{**self.values, **values})

    def clauses(self) -> tuple[list[str], dict[str, object]]:
        """The conditions of the given filters, in declaration order, and their parameters."""
        clauses: list[str] = []
        params: dict[str, object] = {}
        for f in self.declared:
            value = self.values.get(f.name)
            if value is not None and value != "":
                clause, bound = f.sql(value)
                clauses.append(clause)
                params.update(bound)
        return clauses, params

    def where(self) -> tuple[str, dict[str, object]]:
        """`clauses` as one condition (`true` when none is given)."""
        clauses, params = self.clauses()
        return " AND ".join(["true", *clauses]), params

    async def check_ids(self, conn: AsyncConnection) -> None:
        """A BadId (400) when an id filter's id names no row (one statement, only when an
        id is given)."""
        await check_filter_ids(
            conn,
            {
                f.name: (f.id_type, self.values.get(f.name))  # type: ignore[misc]
                for f in self.declared
                if f.kind == "id"
            },
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.values == other.values

    def __hash__(self) -> int:
        return hash((type(self), frozenset(self.values.items())))

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({given})"


@dataclass(frozen=True)
class Ordering:
    """A sort key: its SQL over the collection's alias, what it means, the type of its
    cursor value (`date`s travel as ISO text), and whether REST's `sort` offers it."""

    sql: str
    meaning: str
    cursor: type[int] | type[str] | type[dt.date]
    rest: bool = False
