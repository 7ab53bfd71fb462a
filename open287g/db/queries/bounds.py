"""Bounds on what the shared filters may carry, checked when a filter is built.

Both APIs build these filters from client input (REST query parameters, GraphQL
arguments and variables), so checking here refuses oversized input for both before any
SQL is written: a 10 MB `q` once ran an ILIKE for 134 s. Text is bounded like the text
filters of `pagination.contains_pattern`; lists (group-by dimensions) by `MAX_LIST_ITEMS`.
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import fields
from typing import Any

from open287g.db.queries.pagination import MAX_TEXT_CHARS, BadFilter

MAX_LIST_ITEMS = 10


def check_filter(filters: Any) -> None:
    """Every text field of a filter dataclass: at most MAX_TEXT_CHARS, no NUL."""
    for field in fields(filters):
        value = getattr(filters, field.name)
        if isinstance(value, str):
            if len(value) > MAX_TEXT_CHARS:
                raise BadFilter(
                    f"{field.name} is at most {MAX_TEXT_CHARS} characters (got {len(value):,})"
                )
            if "\x00" in value:
                raise BadFilter(f"{field.name} cannot contain a NUL character")


def check_list(name: str, values: Sized, limit: int = MAX_LIST_ITEMS) -> None:
    if len(values) > limit:
        raise BadFilter(f"{name} takes at most {limit} items (got {len(values):,})")
