"""One masking rule for every GraphQL error, whichever path produced it.

Resolvers, the compiled path and strawberry's own pre-execution steps all end in
`MaskedSchema.execute`, which rewrites the result's errors once:

- input errors (validation, limits, variable coercion, a `ClientError` such as a bad
  cursor or id) are shown as they are: they tell the client what to fix;
- a database that is briefly out of reach (`open287g.db.errors.unavailable`) becomes
  `DATABASE_UNAVAILABLE` with a retry hint, and the HTTP view answers 503 + Retry-After;
- anything else becomes `Unexpected error.`.

The real cause is logged first (`log_errors`, before this rewrite), so no driver text
reaches a client and no cause is lost: a server-side error with its exception and
traceback at ERROR (logger `strawberry.execution`, as strawberry logs it); a client's
mistake as one INFO line without a traceback (logger `open287g.graphql`), because it is
not the operator's problem and a client sending bad input in a loop must not flood the
error log with tracebacks. Masking in `execute`, not in a schema extension, also covers an
exception that escapes an extension hook (strawberry then skips the extensions' exits).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.logging import StrawberryLogger

from open287g.db.errors import RETRY_AFTER_SECONDS, unavailable
from open287g.errors import ClientError
from open287g.graphql.context import Context
from open287g.graphql.plan import PlanCache, answer

UNEXPECTED = "Unexpected error."
UNAVAILABLE = "The database is temporarily unavailable; retry later."
UNAVAILABLE_CODE = "DATABASE_UNAVAILABLE"
CLIENT_MESSAGE_CHARS = 300  # of a client error's message, in its log line

client_errors = logging.getLogger("open287g.graphql")


def _shown_as_is(error: GraphQLError) -> bool:
    original = error.original_error
    # graphql-core wraps its own input errors (e.g. a variable that does not coerce) in
    # another GraphQLError: those messages describe the client's input.
    return original is None or isinstance(original, ClientError | GraphQLError)


def _rewritten(
    error: GraphQLError, message: str, extensions: dict[str, Any] | None
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def log_errors(errors: Iterable[GraphQLError]) -> None:
    """Before `mask`: a request's client mistakes as ONE short INFO line (their count and
    the first message: a document with 1,900 unknown fields has ~100 validation errors,
    which were ~100 lines), anything else each with its cause (exception and traceback) at
    ERROR."""
    mistakes = 0
    first = ""
    for error in errors:
        if _shown_as_is(error):
            mistakes += 1
            first = first or error.message[:CLIENT_MESSAGE_CHARS]
        else:
            StrawberryLogger.error(error)
    if mistakes == 1:
        client_errors.info("client error: %s", first)
    elif mistakes:
        client_errors.info("%d client errors; the first: %s", mistakes, first)


def mask(errors: list[GraphQLError]) -> list[GraphQLError]:
    masked = []
    for error in errors:
        if _shown_as_is(error):
            masked.append(error)
        elif error.original_error is not None and unavailable(error.original_error):
            extensions = {"code": UNAVAILABLE_CODE, "retryAfter": RETRY_AFTER_SECONDS}
            masked.append(_rewritten(error, UNAVAILABLE, extensions))
        else:
            masked.append(_rewritten(error, UNEXPECTED, None))
    return masked


def database_unavailable(errors: Iterable[GraphQLError] | None) -> bool:
    """Whether a (masked) result failed because the database was out of reach."""
    return any((e.extensions or {}).get("code") == UNAVAILABLE_CODE for e in errors or ())


class MaskedSchema(strawberry.Schema):
    """The schema, with its plan cache (None: every operation runs on the resolvers)."""

    def __init__(self, *args: Any, plans: PlanCache | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plans = plans

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if self.plans is not None and query is not None and isinstance(context_value, Context):
            key = self.plans.key(query, operation_name, variable_values)
            plan = self.plans.get(key) if key is not None else None
            if plan is not None:
                # Seen before, with these variables: parsed, validated, within the limits
                # and compiled then; only the statement runs.
                answered = await answer(plan, context_value)
                log_errors(answered.errors or ())
                errors = mask(answered.errors) if answered.errors else None
                return ExecutionResult(data=answered.data, errors=errors)
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if result.errors:
            result.errors = mask(result.errors)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """strawberry's hook for logging the errors of every operation it runs."""
        log_errors(errors)
