"""REST rows, flat: an entity's `rest` columns (declared in its module,
`open287g.db.entities`) as SQL and as Python types.

A REST column is a column, `id`, or a path through `one` relations (`agency.name`). In
SQL (`row_sql`) a `unique` relation is joined once per row for all the values read through
it, any other is a correlated subquery. As types (`rest_fields`), enums are `str` (REST
writes the stored text); the pydantic row models, OpenAPI and datapackage.json are built
from them, so a column added to `rest` appears everywhere at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from open287g.db.compiler import MAX_KEYS, NotCompilable, Statement, joined_on_key
from open287g.db.entities import ENTITIES
from open287g.db.entities.declare import (
    ID_DESCRIPTION,
    Column,
    Entity,
    Relation,
    RestColumn,
    gid_sql,
    json_sql,
    optional,
)


@dataclass(frozen=True)
class RestField:
    """One REST column as the APIs describe it: `type` is the Python type of its JSON
    value (an enum is `str`: REST writes the stored text)."""

    name: str
    type: Any
    description: str | None


def _field(entity: Entity, column: RestColumn) -> RestField:
    owner, nullable, description = entity, False, None
    *through, last = column.field.split(".")
    for name in through:
        relation = owner.get(name)
        if not isinstance(relation, Relation) or relation.kind not in ("one", "embed"):
            raise ValueError(f"{entity.name}.{column.name}: {name} is not a `one` relation")
        # An embed with a condition (`source`) is null unless it holds (a search's match).
        nullable = nullable or (relation.kind == "one" and relation.nullable)
        nullable = nullable or (relation.kind == "embed" and bool(relation.source))
        description = relation.description  # an `id` through it is described by it
        owner = ENTITIES[relation.target]
    if last == "id" and owner.node:
        base: Any = str
        description = description or ID_DESCRIPTION
    else:
        declared = owner.get(last)
        if not isinstance(declared, Column):
            raise ValueError(f"{entity.name}.{column.name}: {column.field} is not a column")
        base, optional_ = optional(declared.type)
        nullable = nullable or optional_
        if isinstance(base, type) and issubclass(base, enum.Enum):
            base = str
        description = declared.description
    return RestField(
        column.name, base | None if nullable else base, column.description or description
    )


@cache
def rest_fields(entity: Entity) -> tuple[RestField, ...]:
    """The entity's REST columns in CSV order, typed (checked against the declarations)."""
    return tuple(_field(entity, column) for column in entity.rest)


@dataclass
class Joins:
    """The LEFT JOINs of a flat row's `unique` relations, each joined once per row
    (`agency.id` and `agency.name` share one), in the order they are first needed."""

    stmt: Statement
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)
    clauses: list[str] = field(default_factory=list)

    def alias(self, relation: Relation, parent: str) -> str:
        found = self.aliases.get((parent, relation.name))
        if found is None:
            found = self.aliases[(parent, relation.name)] = self.stmt.alias()
            table, where, condition = relation.source.partition(" WHERE ")
            if not where:
                raise NotCompilable(f"{relation.name}: no WHERE to join on")
            self.clauses.append(
                f" LEFT JOIN {table.format(t=parent, c=found)}"
                f" ON {condition.format(t=parent, c=found)}"
            )
        return found

    @property
    def sql(self) -> str:
        return "".join(self.clauses)


def row_sql(stmt: Statement, entity: Entity, alias: str, joins: Joins) -> str:
    """json_build_object(...) of the entity's REST row over its row `alias`, whose FROM
    clause must end with `joins.sql`."""
    if len(entity.rest) > MAX_KEYS:
        raise NotCompilable("too many keys for one object")
    parts = [f"'{c.name}', {flat_sql(stmt, entity, alias, c.field, joins)}" for c in entity.rest]
    return f"json_build_object({', '.join(parts)})"


def flat_sql(
    stmt: Statement, entity: Entity, alias: str, path: str, joins: Joins | None = None
) -> str:
    """A REST row's value: `path` is a column, `id`, or goes through `one` relations
    (`agency.name`): a `unique` relation is joined (with `joins`), any other is a
    correlated subquery. Enums are their stored values (REST writes `moa-url` where
    GraphQL names MOA_URL)."""
    head, _, rest = path.partition(".")
    declared = entity.get(head)
    if not rest:
        if head == "id" and entity.node:
            return gid_sql(entity.name, entity.key.format(t=alias))
        if not isinstance(declared, Column):
            raise NotCompilable(f"{entity.name}.{path}")
        base, _ = optional(declared.type)
        if isinstance(base, type) and issubclass(base, enum.Enum):
            return f"CAST({declared.sql.format(t=alias)} AS text)"
        return json_sql(declared, alias)
    if not isinstance(declared, Relation) or declared.kind not in ("one", "embed"):
        raise NotCompilable(f"{entity.name}.{path}")
    target = ENTITIES[declared.target]
    if declared.kind == "embed":
        value = flat_sql(stmt, target, alias, rest, joins)
        if declared.source:  # null unless its condition holds, as in GraphQL
            return f"CASE WHEN {declared.source.format(t=alias)} THEN {value} END"
        return value
    if declared.unique and not declared.order and joins is not None:
        key = joined_on_key(declared, target) if rest == "id" and target.node else None
        if key is not None:  # the id is the foreign key itself: nothing to join
            return gid_sql(target.name, key.format(t=alias))
        return flat_sql(stmt, target, joins.alias(declared, alias), rest, joins)
    child = stmt.alias()
    source = declared.source.format(t=alias, c=child)
    order = f" ORDER BY {declared.order.format(c=child)}" if declared.order else ""
    return f"(SELECT {flat_sql(stmt, target, child, rest)} FROM {source}{order} LIMIT 1)"
