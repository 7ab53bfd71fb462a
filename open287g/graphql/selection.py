"""Reading a GraphQL selection as the executor would collect it (graphql-core's field
collection: fragments, `@include`/`@skip`, aliases, merged fields; its argument coercion,
then strawberry's conversion) into the compiler's `Pick` tree. Used by the operation
compiler (`graphql/plan.py`) and the root fields (`graphql/roots.py`)."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments

from open287g.db.compiler import NotCompilable, Pick


class Reader:
    """Turns the selection under a field into `Pick`s, as the executor would collect it."""

    def __init__(
        self,
        schema: Any,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
    ) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = schema._schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variables

    def root(self) -> dict[str, FieldDetailsList]:
        query = self.schema.query_type
        assert query is not None
        collected = collect_fields(
            self.schema, self.fragments, self.variables, query, self.operation
        )
        return collected.grouped_field_set

    def picks(self, parent: GraphQLObjectType, details: FieldDetailsList) -> tuple[Pick, ...]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, details
        )
        return tuple(self.pick(parent, key, d) for key, d in collected.grouped_field_set.items())

    def pick(self, parent: GraphQLObjectType, key: str, details: FieldDetailsList) -> Pick:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return Pick(key, "__typename")
        if any(d.fragment_variable_values for d in details):
            raise NotCompilable("fragment variables")
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompilable(name)
        field = definition.extensions["strawberry-definition"]
        below = get_named_type(definition.type)
        picks = None
        if node.selection_set is not None:
            if not isinstance(below, GraphQLObjectType):
                raise NotCompilable(f"abstract type below {name}")
            picks = self.picks(below, details)
        args = self.arguments(definition, details)
        convert = field.metadata.get("arguments")  # a relation's: onto the query layer
        if convert is not None:
            args = convert(**args)
        return Pick(key, field.python_name, args, picks)

    def arguments(self, definition: GraphQLField, details: FieldDetailsList) -> dict[str, Any]:
        """The resolver's keyword arguments, coerced by graphql-core and converted by
        strawberry exactly as for the resolver (defaults, nested variables, enums)."""
        if not definition.args:
            return {}
        values = get_argument_values(definition, details[0].node, self.variables)
        field = definition.extensions["strawberry-definition"]
        converted: dict[str, Any] = convert_arguments(
            values,
            field.arguments,
            scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
            config=self.strawberry_schema.config,
        )
        return converted

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise NotCompilable(name)
        return found
