"""Every element of the GraphQL schema says what it is: a test lists the types, fields,
arguments and enum values without a description, and the list must be empty. The words
are written where each thing is declared (entity columns and relations, inputs, enums'
docstrings and `MEANINGS`), so the SDL, GraphiQL's documentation explorer and the REST
rows built from the same declarations (OpenAPI, datapackage) carry the same words."""

from __future__ import annotations

import ast
import enum
import pathlib

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from open287g.api.openapi import openapi_document
from open287g.api.v1.resources import RESOURCES
from open287g.db.entities import ENTITIES
from open287g.db.models.enums import Meanings
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


def declared_meanings() -> list[tuple[str, str, str]]:
    """(enum, value, words) as each `MEANINGS.update({...})` in the package's source writes
    them: read from the source, not from the MEANINGS table the schema is built from."""
    package = pathlib.Path(__file__).parents[2] / "open287g"
    declared = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and ast.unparse(node.func) == "MEANINGS.update"
                and node.args
                and isinstance(node.args[0], ast.Dict)
            ):
                continue
            for key, value in zip(node.args[0].keys, node.args[0].values, strict=True):
                assert isinstance(key, ast.Attribute)
                assert isinstance(key.value, ast.Name)
                assert isinstance(value, ast.Constant), ast.unparse(value)
                assert isinstance(value.value, str)
                declared.append((key.value.id, key.attr, value.value))
    return declared


def test_each_enum_value_carries_its_own_enums_words() -> None:
    """Enum values of different enums share names (STATE: DetainerDimension, LinkKind,
    AgreementDimension, JurisdictionKind…; PENDING, COUNTY, ENDED…): each value in the
    schema has the words written for its own enum (the schema once described
    DetainerDimension.STATE as "ICE corrected the agency's state.", LinkKind.STATE's)."""
    declared = declared_meanings()
    assert len(declared) > 60
    shared = {value for _, value, _ in declared}
    assert {"STATE", "PENDING", "COUNTY"} <= shared
    types = schema._schema.type_map
    for enum_name, value_name, words in declared:
        enum_type = types.get(enum_name)
        if enum_type is None:
            continue  # an enum the API does not show
        assert isinstance(enum_type, GraphQLEnumType), enum_name
        assert enum_type.values[value_name].description == words, (enum_name, value_name)
    detainer_dimension = types["DetainerDimension"]
    assert isinstance(detainer_dimension, GraphQLEnumType)
    assert detainer_dimension.values["STATE"].description == "The facility's state."


def test_meanings_tell_equal_members_of_two_enums_apart() -> None:
    class First(enum.StrEnum):
        SAME = "SAME"

    class Second(enum.StrEnum):
        SAME = "SAME"
        OTHER = "OTHER"

    assert str(First.SAME) == Second.SAME  # equal members: a dict keyed by them merged them
    assert len({First.SAME: 1, Second.SAME: 2}) == 1
    meanings = Meanings()
    meanings.update({First.SAME: "first"})
    meanings.update({Second.SAME: "second"})
    assert (meanings.get(First.SAME), meanings.get(Second.SAME)) == ("first", "second")
    assert meanings.enums() == {First, Second}
    with pytest.raises(ValueError, match="one enum per update"):
        meanings.update({First.SAME: "a", Second.OTHER: "b"})
