"""The words of every GraphQL enum: its description is the Python enum's docstring and each
value's is its entry in `MEANINGS`, both written where the enum is declared (the query
layer's enums are the GraphQL enums: one vocabulary). Applied once, before the schema is
built, to the strawberry definitions of every enum that has meanings."""

from __future__ import annotations

import inspect

from open287g.db.models.enums import MEANINGS


def describe_enums() -> None:
    for cls in MEANINGS.enums():
        definition = getattr(cls, "__strawberry_definition__", None)
        if definition is None:
            continue  # not in the API
        if definition.description is None and cls.__doc__:
            definition.description = inspect.cleandoc(cls.__doc__)
        for value in definition.values:
            if value.description is None:
                value.description = MEANINGS.get(cls[value.name])
