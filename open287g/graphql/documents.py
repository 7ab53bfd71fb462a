"""Parsing and validation, bounded in size, memory and event-loop time.

- A document over `MAX_DOCUMENT_BYTES` is refused before parsing, and parsing stops after
  `MAX_TOKENS` tokens (graphql-core's own limit).
- Parsed documents and their validation results are cached together, by query text, in an
  LRU bounded by *estimated bytes* (`CACHE_BYTES`), not by entries: strawberry's
  ParserCache kept up to 1,024 documents of any size (60 × 5 MB documents held 560 MB).
  A parsed document takes about 85–125 bytes of memory per source character (measured
  with tracemalloc), so an entry is charged `AST_BYTES_PER_CHAR` per character.
- Parsing and validating a long document is CPU work that would stall every other
  request (validation is quadratic in repeated fields: a 5 KB document took 200 ms), so
  documents over `OFFLOAD_CHARS` are parsed and validated in a small thread pool; short
  ones (most real queries, under a millisecond) stay on the event loop.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from open287g.graphql.limits import directive_errors

T = TypeVar("T")

MAX_DOCUMENT_BYTES = 16_384
MAX_TOKENS = 2_000
CACHE_BYTES = 64 * 2**20
AST_BYTES_PER_CHAR = 128
ENTRY_OVERHEAD = 2_048
OFFLOAD_CHARS = 512

# Two workers: enough to keep long documents off the event loop, few enough that a flood
# of them queues here instead of taking every core.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-documents")


@dataclass
class Entry:
    document: DocumentNode
    cost: int
    errors: list[GraphQLError] | None = None  # validation's answer, once known


class DocumentCache:
    """An LRU of parsed (and validated) documents whose estimated bytes stay under
    `budget`. Used from the event loop only."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self.total = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Entry | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def put(self, query: str, document: DocumentNode) -> Entry:
        entry = Entry(document, ENTRY_OVERHEAD + AST_BYTES_PER_CHAR * len(query))
        if entry.cost > self.budget:
            return entry  # used for this request, never kept
        old = self._entries.pop(query, None)
        if old is not None:
            self.total -= old.cost
        while self._entries and self.total + entry.cost > self.budget:
            _, evicted = self._entries.popitem(last=False)
            self.total -= evicted.cost
        self._entries[query] = entry
        self.total += entry.cost
        return entry


def utf8_length(text: str) -> int:
    # surrogatepass: JSON may carry lone surrogates ("\ud800"); they still take bytes.
    return len(text.encode("utf-8", "surrogatepass"))


async def _cpu(size: int, work: Callable[[], T]) -> T:
    if size <= OFFLOAD_CHARS:
        return work()
    return await asyncio.get_running_loop().run_in_executor(_POOL, work)


class CachedDocuments(SchemaExtension):
    """Replaces strawberry's ParserCache, MaxTokensLimiter and ValidationCache. Must come
    first in the schema's extensions (the limits read the validated document)."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self.entry: Entry | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            size = utf8_length(query) if len(query) * 4 > MAX_DOCUMENT_BYTES else len(query)
            if size > MAX_DOCUMENT_BYTES:
                raise GraphQLError(
                    f"the query document is {size:,} bytes; the maximum is"
                    f" {MAX_DOCUMENT_BYTES:,} bytes"
                )
            entry = self.cache.get(query)
            if entry is None:
                document = await _cpu(len(query), lambda: parse(query, max_tokens=MAX_TOKENS))
                entry = self.cache.put(query, document)
            self.entry = entry
            context.graphql_document = entry.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        entry = self.entry
        if entry is not None and context.graphql_document is entry.document:
            if entry.errors is None:
                schema, rules = context.schema._schema, context.validation_rules
                size = len(context.query or "")
                # Directive excesses are refused first, without validating (limits.py).
                entry.errors = directive_errors(schema, entry.document) or await _cpu(
                    size, lambda: validate_document(schema, entry.document, rules)
                )
            context.pre_execution_errors = list(entry.errors)
        yield
