"""Bounds on what the shared filters may carry, checked when a filter is built.

Both APIs build these filters from client input (REST query parameters, GraphQL
arguments and variables), so checking here refuses oversized input for both before any
SQL is written: a 10 MB `q` once ran an ILIKE for 134 s. Text is bounded like the text
filters of `pagination.contains_pattern`; lists (group-by dimensions) by `MAX_LIST_ITEMS`.
"""

from __future__ import annotations

from collections.abc import Sized

from open287g.db.queries.pagination import MAX_TEXT_CHARS, BadFilter

MAX_LIST_ITEMS = 10


def check_text(name: str, value: object) -> None:
    """A filter's text value: at most MAX_TEXT_CHARS, no NUL (other values pass)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise BadFilter(f"{name} is at most {MAX_TEXT_CHARS} characters (got {len(value):,})")
        if "\x00" in value:
            raise BadFilter(f"{name} cannot contain a NUL character")


def check_list(name: str, values: Sized, limit: int = MAX_LIST_ITEMS) -> None:
    if len(values) > limit:
        raise BadFilter(f"{name} takes at most {limit} items (got {len(values):,})")
