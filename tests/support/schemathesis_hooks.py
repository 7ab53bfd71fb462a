"""schemathesis hooks (loaded with SCHEMATHESIS_HOOKS by tests/api/test_schemathesis.py).

Some parameters are valid by their schema yet not every schema-valid value names something:
`state` is any string naming a state ("tx", "Texas"; "zz" is a 400 by design: an unknown
state is an error, never a guess), and `cursor`, `jurisdiction` and `agency` are opaque,
server-issued tokens (a cursor or id the server did not issue is a 400 by design). JSON
Schema cannot say "a state" or "an id we issued", so for POSITIVE cases (those
`positive_data_acceptance` expects to succeed) a `state` becomes a real state in a random
spelling and a made-up cursor or id is left out. Negative cases are untouched: they must
still be refused.
"""

from __future__ import annotations

import random
from typing import Any

import schemathesis
from schemathesis.generation import GenerationMode

from open287g.db.reference_data import STATES

SPELLINGS = [s.usps for s in STATES] + [s.usps.lower() for s in STATES] + [s.name for s in STATES]


@schemathesis.hook
def map_case(context: object, case: Any) -> Any:
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or not case.query:
        return case
    query = dict(case.query)
    if isinstance(query.get("state"), str) and query["state"] != "":
        # Seeded from the generated value: the same case maps the same way every run.
        query["state"] = random.Random(query["state"]).choice(SPELLINGS)  # noqa: S311
    for token in ("cursor", "jurisdiction", "agency"):
        if isinstance(query.get(token), str) and query[token] != "":
            del query[token]
    case.query = query
    return case
