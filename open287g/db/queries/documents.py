"""Read MOA documents for both APIs: pages of documents, full-text search with a ranked
best page and a highlighted snippet, their extracted fields, the documents of agreements,
and signing dates that disagree with ICE's list.

Lists never carry page text: a document's text is its own field, `Document.pageText`
(`open287g.db.entities.page_text`), asked for explicitly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.documents import INDEXED_PAGE_CHARS
from open287g.db.queries.pagination import (
    MAX_TEXT_CHARS,
    BadCursor,
    BadFilter,
    PageQuery,
    decode_cursor,
    id_page_query,
)

MAX_TEXT_PAGES = 60  # one document's text in one answer: every page of the largest MOA


@dataclass(frozen=True)
class FieldValue:
    value: str | None
    page: int | None
    method: str | None
    confidence: float | None
    reason: str | None
    candidate: bool = False


@dataclass
class DocumentRecord:
    id: int
    sha256: str
    bytes: int
    pages: int | None
    file_name: str
    url: str | None
    fetched_at: dt.datetime
    status: str
    reason: str | None
    text_method: str
    signed_on: dt.date | None
    program_model: str | None
    fields: dict[str, list[FieldValue]] = field(default_factory=dict)
    agreement_ids: list[int] = field(default_factory=list)


_COLUMNS = (
    "d.id, d.sha256, d.bytes, d.page_count, d.file_name, d.url, d.fetched_at, d.status,"
    " d.reason, d.text_method, d.signed_on, CAST(d.program_model AS text) AS program_model"
)


# Every document as a row the APIs read (`db/entities/document.py`): every column of the
# table (a column declared over any of them compiles on every path), with the columns a
# search sets (`search_page_query`) null.
DOCUMENTS = (
    "(SELECT d.*, CAST(NULL AS integer) AS match_page,"
    " CAST(NULL AS float8) AS match_rank, CAST(NULL AS text) AS match_snippet"
    " FROM documents d)"
)


def _record(row: Sequence[object]) -> DocumentRecord:
    return DocumentRecord(*row[:12])  # type: ignore[arg-type]


async def _attach(conn: AsyncConnection, records: Sequence[DocumentRecord]) -> None:
    """Fields and agreement links of a page of documents: two statements per page."""
    if not records:
        return
    by_id = {r.id: r for r in records}
    ids = list(by_id)
    for row in await conn.execute(
        text(
            "SELECT document_id, field, value, page, method, confidence, reason, candidate"
            " FROM document_fields WHERE document_id = ANY(CAST(:ids AS bigint[]))"
            " ORDER BY document_id, field, ordinal"
        ),
        {"ids": ids},
    ):
        by_id[row[0]].fields.setdefault(row[1], []).append(FieldValue(*row[2:]))
    for document_id, agreement_id in await conn.execute(
        text(
            "SELECT document_id, agreement_id FROM document_agreements"
            " WHERE document_id = ANY(CAST(:ids AS bigint[])) ORDER BY document_id, agreement_id"
        ),
        {"ids": ids},
    ):
        by_id[document_id].agreement_ids.append(agreement_id)


async def documents_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, DocumentRecord]:
    rows = (
        await conn.execute(
            text(f"SELECT {_COLUMNS} FROM documents d WHERE d.id = ANY(CAST(:ids AS bigint[]))"),
            {"ids": list(ids)},
        )
    ).all()
    records = [_record(row) for row in rows]
    await _attach(conn, records)
    return {r.id: r for r in records}


async def documents_of_agreements(
    conn: AsyncConnection, agreement_ids: Sequence[int]
) -> dict[int, DocumentRecord]:
    """Each agreement's current MOA document (the one its moaUrl names)."""
    rows = (
        await conn.execute(
            text(
                "SELECT l.agreement_id, l.document_id FROM document_agreements l"
                " WHERE l.agreement_id = ANY(CAST(:ids AS bigint[])) AND l.is_current"
            ),
            {"ids": list(agreement_ids)},
        )
    ).all()
    documents = await documents_by_ids(conn, sorted({d for _, d in rows}))
    return {a: documents[d] for a, d in rows if d in documents}


async def current_document_id(conn: AsyncConnection, agreement_id: int) -> int | None:
    """The agreement's current MOA document (the one its moaUrl names), if loaded."""
    found = await conn.execute(
        text(
            "SELECT l.document_id FROM document_agreements l"
            " WHERE l.agreement_id = :id AND l.is_current ORDER BY l.document_id LIMIT 1"
        ),
        {"id": agreement_id},
    )
    return found.scalar_one_or_none()


# websearch_to_tsquery keeps pending operators on a stack of 32: a run of 32 or more
# `-` (NOT) with nothing but spaces or punctuation between them fails the statement
# ("tsquery stack too small", a 500). Only a letter or digit (a word) ends a run, so runs
# are counted between those, more strictly than PostgreSQL does.
MAX_EXCLUSIONS_IN_A_ROW = 16
_BETWEEN_WORDS = re.compile(r"[\W_]+")


def _search_query(search: str) -> str:
    if "\x00" in search or len(search) > MAX_TEXT_CHARS:
        raise BadFilter(f"search is at most {MAX_TEXT_CHARS} characters, without NUL")
    if not search.strip():
        raise BadFilter("search must not be blank")
    if any(run.count("-") > MAX_EXCLUSIONS_IN_A_ROW for run in _BETWEEN_WORDS.findall(search)):
        raise BadFilter(f"search has more than {MAX_EXCLUSIONS_IN_A_ROW} `-` in a row")
    return search


# A search, as README "Searching MOA text" states it: web-search syntax (words, "a phrase",
# OR, -word), English stemming. A page that holds the words of a plain multi-word search
# as written (`exact`, case and punctuation aside: 2 + rank) ranks above one that holds
# them as a phrase once stemmed (`phrase`, "Warrant Service Office": 1 + rank), which
# ranks above every page that holds them apart; its snippet shows the phrase. A snippet
# falls back to any one of the words when the page holds them too far apart for one
# fragment (`any_word`), so it shows what matched.
_SEARCH_CTES = """
search_query AS (
    SELECT websearch_to_tsquery('english', :search) AS query,
           phraseto_tsquery('english', CAST(:phrase AS text)) AS phrase,
           websearch_to_tsquery('english', CAST(:any_word AS text)) AS any_word
),
search_pages AS (
    SELECT p.document_id, p.page_number,
           CASE WHEN NOT p.search @@ q.phrase THEN 0
                WHEN left(p.text, {indexed}) ~* CAST(:exact AS text) THEN 2
                ELSE 1 END
             + least(ts_rank(p.search, q.query), 0.999999) AS score
    FROM document_pages p, search_query q
    WHERE p.search @@ q.query
),
search_best AS (
    SELECT DISTINCT ON (s.document_id) s.document_id, s.page_number,
           round(CAST(s.score AS numeric), 6) AS rank
    FROM search_pages s
    ORDER BY s.document_id, s.score DESC, s.page_number
)"""

_HEADLINE = (
    "ts_headline('english', left(p.text, {indexed}), {query},"
    " 'StartSel=«, StopSel=», MaxWords=30, MinWords=12, MaxFragments=1')"
)

_SEARCH_ROWS = """
SELECT d.*, b.page_number AS match_page, CAST(b.rank AS float8) AS match_rank,
       CASE WHEN strpos(h.snippet, '«') > 0 OR q.any_word IS NULL THEN h.snippet
            ELSE {any_word_headline} END AS match_snippet,
       CAST(b.rank AS text) AS sort_value
FROM search_best b
JOIN documents d ON d.id = b.document_id
JOIN document_pages p ON p.document_id = b.document_id AND p.page_number = b.page_number
CROSS JOIN search_query q
CROSS JOIN LATERAL (
    SELECT {headline} AS snippet
) h
WHERE {after}
ORDER BY b.rank DESC, d.id
"""

_WORD = re.compile(r"\w+")


def _search_words(search: str) -> tuple[str | None, str | None]:
    """For a plain search of 2+ words (no quotes, OR or -word), the phrase to rank first;
    for any search of 2+ words, the words to show one of in a snippet (`a OR b`)."""
    tokens = search.split()
    kept = [t for t in tokens if not t.startswith("-") and t != "OR"]
    words = [w for t in kept for w in _WORD.findall(t)]
    if len(words) < 2:
        return None, None
    plain = len(kept) == len(tokens) and '"' not in search
    return (search if plain else None), " OR ".join(words)


def _exact(phrase: str | None) -> str | None:
    """The phrase's words in a row, any case, anything but letters and digits between
    (a PostgreSQL regular expression; words hold only letters, digits and _)."""
    return None if phrase is None else r"\m" + r"\W+".join(_WORD.findall(phrase)) + r"\M"


SEARCH_ORDERING = "search"
# A search's rows, best rank first, then id (SQL over the page's rows `{c}`); the cursor's
# value is the rank as text, its id the document's.
SEARCH_ORDER = "{c}.match_rank DESC, {c}.id"
ID_ORDER = "{c}.id"
# The rank a search's cursor carries: `round(…, 6)` as PostgreSQL writes it.
_RANK = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


def search_page_query(search: str, after: str | None) -> PageQuery:
    """A page of the documents whose text matches `search` (web-search syntax: words,
    "a phrase", OR, -not), best first by the rank of their best page (the words of a
    plain search as a phrase first); each row with that page's number (`match_page`),
    rank and a highlighted snippet (`«match»`). The cursor's value is the rank as text
    (`sort_value`)."""
    phrase, any_word = _search_words(_search_query(search))
    params: dict[str, object] = {
        "search": search,
        "phrase": phrase,
        "exact": _exact(phrase),
        "any_word": any_word,
    }
    where = "true"
    if after:
        keyset = decode_cursor(after, SEARCH_ORDERING)
        if not isinstance(keyset.value, str) or not _RANK.fullmatch(keyset.value):
            # Text a numeric cannot read would fail the statement (a 500): refused here.
            raise BadCursor("cursor is not one this API issued")
        where = "(b.rank < CAST(:after_rank AS numeric) OR (b.rank = CAST(:after_rank AS numeric)"
        where += " AND d.id > :after_id))"
        params.update(after_rank=keyset.value, after_id=keyset.id)
    return PageQuery(
        ctes=_SEARCH_CTES.format(indexed=INDEXED_PAGE_CHARS).strip(),
        rows=_SEARCH_ROWS.format(
            after=where,
            headline=_HEADLINE.format(
                indexed=INDEXED_PAGE_CHARS,
                query="CASE WHEN p.search @@ q.phrase THEN q.phrase ELSE q.query END",
            ),
            any_word_headline=_HEADLINE.format(indexed=INDEXED_PAGE_CHARS, query="q.any_word"),
        ).strip(),
        count="SELECT count(*) FROM search_best",
        params=params,
    )


def document_page_query(after: str | None) -> PageQuery:
    """A page of every document in id order (cursors of the ordering "id")."""
    return id_page_query(
        source=f"{DOCUMENTS} d",
        alias="d",
        where="true",
        params={},
        after=after,
        ordering="id",
    )


def documents_page(search: str | None, after: str | None) -> tuple[PageQuery, str, str]:
    """The documents page both APIs read (GraphQL's `documents`, REST's `/v1/documents`):
    every document in id order, or those matching `search` (full text, web-search
    syntax), best first, each with its best page and a snippet. The page, its cursors'
    ordering, and its rows' order (SQL over `{c}`, the page's rows)."""
    if search is None:
        return document_page_query(after), "id", ID_ORDER
    return search_page_query(search, after), SEARCH_ORDERING, SEARCH_ORDER


@dataclass(frozen=True)
class DateDisagreement:
    agreement_id: int
    document_id: int
    list_signed_on: dt.date | None
    document_signed_on: dt.date
    days: int | None


async def signing_date_disagreements(conn: AsyncConnection) -> list[DateDisagreement]:
    """Agreements whose MOA's extracted signing date differs from the list's `signedOn`
    (or whose list has no date): material for the data-quality report."""
    rows = (
        await conn.execute(
            text(
                "SELECT g.id, d.id, g.signed_on, d.signed_on, d.signed_on - g.signed_on"
                " FROM document_agreements l JOIN agreements g ON g.id = l.agreement_id"
                " JOIN documents d ON d.id = l.document_id"
                " WHERE l.is_current AND d.signed_on IS NOT NULL"
                " AND g.signed_on IS DISTINCT FROM d.signed_on ORDER BY g.id"
            )
        )
    ).all()
    return [DateDisagreement(*row) for row in rows]
