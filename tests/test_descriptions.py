"""Every element of the GraphQL schema says what it is: a test lists the types, fields,
arguments and enum values without a description, and the list must be empty. The words
are written where each thing is declared (entity columns and relations, inputs, enums'
docstrings and `MEANINGS`), so the SDL, GraphiQL's documentation explorer and the REST
rows built from the same declarations (OpenAPI, datapackage) carry the same words."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from open287g.api.v1.resources import RESOURCES
from open287g.db.entities import ENTITIES
from open287g.graphql.schema import schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed() -> list[str]:
    missing = []
    for name, type_ in sorted(schema._schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not type_.description:
            missing.append(f"type {name}")
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"field {name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        if isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                if not value.description:
                    missing.append(f"enum value {name}.{value_name}")
    return missing


def test_every_schema_element_has_a_description() -> None:
    assert undescribed() == []


def test_rest_rows_carry_the_declared_words() -> None:
    """A REST column built from an entity column has that column's description (unless
    its RestColumn words it differently for REST, on purpose)."""
    for resource in RESOURCES.values():
        entity = ENTITIES.get(resource.type_name)
        if entity is None:
            continue
        fields = resource.model.model_fields
        reworded = {rest.name for rest in entity.rest if rest.description}
        for column in entity.columns:
            if column.name in fields and column.description and column.name not in reworded:
                assert fields[column.name].description == column.description, (
                    resource.name,
                    column.name,
                )
