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

from open287g.api.openapi import openapi_document
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


def undescribed_in_openapi() -> list[str]:
    """The OpenAPI document's schemas, their properties and the operations' parameters
    without a description."""
    document = openapi_document()
    missing = []
    for name, schema_ in document["components"]["schemas"].items():
        if not schema_.get("description"):
            missing.append(f"schema {name}")
        for prop, spec in schema_.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"property {name}.{prop}")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    missing.append(f"parameter {method.upper()} {path} {parameter['name']}")
    return missing


def test_every_openapi_schema_property_and_parameter_has_a_description() -> None:
    assert undescribed_in_openapi() == []


def test_the_quality_report_says_the_same_in_both_apis() -> None:
    """/v1/quality's models and GraphQL's DataQuality take their words from one table."""
    rest = openapi_document()["components"]["schemas"]
    graphql_flag = schema._schema.type_map["QualityFlag"]
    assert isinstance(graphql_flag, GraphQLObjectType)
    for field_name in ("agencyName", "detail", "firstSeen", "score"):
        rest_name = {"agencyName": "agency_name", "firstSeen": "first_seen"}.get(
            field_name, field_name
        )
        assert (
            graphql_flag.fields[field_name].description
            == rest["QualityFlagRow"]["properties"][rest_name]["description"]
        )
    assert (
        rest["QualityReportRow"]["description"]
        == schema._schema.type_map["DataQuality"].description
    )
