"""Rows computed from a field's arguments (statistics, a document's page text): what a
computed entity's rows are, and the values a statement binds only when it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """A value bound from the request's settings when the statement runs (a plan cached
    by one app serves every app, whatever its settings): `name` is the `Settings` field."""

    name: str


@dataclass(frozen=True)
class Rows:
    """Rows computed from arguments: a FROM item whose row alias is `{c}`, the order they
    are listed in (over `{c}`), and its `:name` parameters."""

    source: str
    order: str
    params: dict[str, Any]
