"""One data version per GraphQL answer.

A GraphQL query reads through many connections (each DataLoader batch and top-level field
borrows its own, so they run side by side), each its own snapshot. A load that commits, or
that a replica replays, while the query runs could leave one answer mixing two versions.
Instead of serializing every read of a request onto one connection, the version is compared
before and after: "before" is the version the app's `VersionClock` last read from the same
server (no extra query; else one is read), "after" is read once the query is done. The
version only grows and every commit is visible to every later snapshot on that server, so
when both are equal every read in between saw exactly that version. Otherwise the query runs
again with fresh DataLoaders (a load landed: rare), up to `ATTEMPTS` times; an answer whose
version never settled carries none, and so is never cached. A compiled operation needs
none of this: its one statement reads the data and the version in one snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from open287g.db.queries import changes
from open287g.db.queries.changes import DataVersion
from open287g.graphql.context import Context

ATTEMPTS = 3


async def _read(context: Context) -> DataVersion | None:
    try:
        async with context.engine.connect() as conn:
            return await changes.data_version(conn)
    except Exception:  # database out: the result's own errors say so (503)
        return None


class _reader:
    """Reads the version once, when first awaited (see `ReadVersionFirst`)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.value: DataVersion | None = None

    async def __call__(self) -> None:
        self.value = await _read(self.context)


class ReadVersionFirst(SchemaExtension):
    """Before the resolvers run (the operation did not compile), the version they must
    match is read, if the request has not got one yet."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        ctx = context.context
        if context.result is None and isinstance(ctx, Context) and ctx.before_resolvers:
            await ctx.before_resolvers()
        yield


async def versioned_execution(
    request: Request,
    context: Context,
    execute: Callable[[Context], Awaitable[ExecutionResult]],
) -> tuple[ExecutionResult, DataVersion | None]:
    clock = getattr(request.app.state, "version_clock", None)
    before = clock.known(context.engine) if clock is not None else None
    for _ in range(ATTEMPTS):
        if before is None:
            # Read only if resolvers are about to run (`ReadVersionFirst`): a compiled
            # operation needs no reading around it.
            context.before_resolvers = _reader(context)
        result = await execute(context)
        if before is None and context.before_resolvers is not None:
            before = context.before_resolvers.value
        if context.read_version is not None:
            # A compiled operation: one statement read the data and its version in one
            # snapshot, so the answer is exactly that version, with no read around it.
            if clock is not None:
                clock.observe(context.read_version, context.engine)
            return result, context.read_version
        after = await _read(context)
        if after is not None and clock is not None:
            clock.observe(after, context.engine)
        if before is not None and after is not None and after.version == before.version:
            return result, after
        before = after
        context = Context(engine=context.engine, settings=context.settings)
    return result, None
