"""The operation a request runs and its variables, coerced by graphql-core itself.

The limits and the compiled path read argument values before the executor does. They
must read them exactly as the executor will (operation defaults applied, `100.0` given
for an `Int` read as 100, variables nested in input objects substituted), so they ask
graphql-core's own coercion rather than looking at raw JSON.
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import get_operation_ast


def operation_of(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation that will run, or None when the request does not name one that
    exists (the executor then reports the error)."""
    return get_operation_ast(document, operation_name)


def coerce(
    schema: GraphQLSchema, operation: OperationDefinitionNode, raw: dict[str, Any] | None
) -> VariableValues | None:
    """The operation's variables as the executor will see them, or None when they do
    not coerce (the executor then reports why, and nothing runs)."""
    result = get_variable_values(schema, operation.variable_definitions or (), raw or {})
    return None if isinstance(result, list) else result
