"""Rows computed from a field's arguments (statistics, a document's page text): the
function that computes them (`Rows`, `open287g.db.queries.pagination`), and the values a
statement binds only when it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from open287g.db.queries.pagination import Rows

# A computed entity's rows from the field's arguments and its scope (SQL over the parent).
Compute = Callable[[dict[str, Any], str], Rows]


@dataclass(frozen=True)
class Setting:
    """A value bound from the request's settings when the statement runs (a plan cached
    by one app serves every app, whatever its settings): `name` is the `Settings` field."""

    name: str
