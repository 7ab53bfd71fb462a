"""Agency-name search that folds like identity does (README "Search").

`q` (REST) and `agencyNameContains` (GraphQL) match the folded text: case, apostrophes and
quotes (’ included), punctuation, `&`/`and` and runs of whitespace do not matter, so
`Calhoun County Sheriff's Office` finds the Texas agency ICE writes with ’. Both sides
are folded by one SQL function, `search_fold` (migration 0012): the stored side as the
generated column `agencies.name_fold`, indexed with pg_trgm for substring search.
"""

from __future__ import annotations

from open287g.db.queries.pagination import contains_pattern


def folded_contains(column: str, param: str) -> str:
    """SQL: `column` (a `name_fold`) contains the folded value of `:param`."""
    return f"{column} LIKE '%' || search_fold(CAST(:{param} AS text)) || '%'"


def search_value(value: str) -> str:
    """The value to bind, after the same bounds every text filter has (NUL, length)."""
    contains_pattern(value)
    return value


# Ranked search (`orderBy: {field: RELEVANCE}`, REST `sort=relevance`): how well the
# search matches whole words of the agency's folded name (pg_trgm
# `strict_word_similarity`), then how close the whole name is (`similarity`: shorter,
# closer names first), as one bigint (ascending = best first; ties by id), so it fits a
# keyset cursor. `st cloud` ranks `St. Cloud Police Department` (similarity 0.33) and
# `City of St. Cloud Police Department` (0.26), both whole-word matches, first.
RELEVANCE_SQL = (
    "(SELECT -(round(strict_word_similarity(search_fold(CAST(:agency_name AS text)),"
    " x.name_fold) * 1000) * 10000000 + round(similarity(x.name_fold,"
    " search_fold(CAST(:agency_name AS text))) * 1000000))::bigint"
    " FROM agencies x WHERE x.id = g.agency_id)"
)
