"""An agreement's observations: every ICE list that named it, with the values that row
gave and the file it came from (dataset id, name, sha256): declared once, as the entity
Observation (`db/entities/observation.py`), whose rows REST's
`/v1/agreements/{id}/observations` pages (`rest_page`) and GraphQL's
`Agreement.observations` connects, with the same order, cursors and cursor checks
(`AFTER`, `after_values`, here).

Order: publication time, then fetch time (ICE re-issued some lists the same half-day),
then snapshot id; the same order every "latest list" rule uses. Keyset cursors over that
order, so pages never shift when an older snapshot is loaded later.
"""

from __future__ import annotations

import datetime as dt

from open287g.db.queries.pagination import BadCursor, Keyset

ORDERING = "observations"


# The rows after a cursor, over (publication time, fetch time, snapshot id) columns.
AFTER = "({published}, {fetched}, {snapshot}) > (:after_published, :after_fetched, :after_id)"


def after_values(keyset: Keyset) -> dict[str, object]:
    """The parameters of `AFTER` for a decoded cursor (BadCursor if its value is not the
    "published|fetched" pair of timestamps this API writes)."""
    try:
        published, fetched = str(keyset.value).split("|")
        values = dt.datetime.fromisoformat(published), dt.datetime.fromisoformat(fetched)
    except ValueError as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if any(v.tzinfo is None for v in values):
        raise BadCursor("cursor is not one this API issued")
    return {"after_published": values[0], "after_fetched": values[1], "after_id": keyset.id}
