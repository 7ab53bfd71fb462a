"""The data-quality report shared by REST (`/v1/quality`) and GraphQL (`dataQuality`):
"known problems in ICE's lists", each with where it stands.

Two parts:

- **Load issues**: every repair and rejection the loaders recorded in `load_issues`,
  grouped by dataset (ice-287g, policies, …), action, column and reason, with the number
  of files and rows and the first few examples (dataset id, file, row, value).
- **Policy disagreements** (`policy_quality.py`): where policy sources disagree.
- **Cross-checks** that flag and never change the data (`FlagKind`): MOA links whose file
  name names another agency or state (`db/moa_file_names.py`), signed dates outside the
  program's life, active agreements without an MOA, conflicting duplicate rows, the
  rename links with their evidence, and signing dates that the MOA document itself
  contradicts (`documents.signing_date_disagreements`, once MOAs are loaded).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest import lineage
from open287g.db.moa_file_names import judge
from open287g.db.models.enums import MEANINGS
from open287g.db.queries.documents import signing_date_disagreements
from open287g.db.queries.policy_quality import PolicyDisagreement, policy_disagreements

# What each part of the quality report means, declared once: GraphQL's `DataQuality` types
# (graphql/quality.py) and REST's /v1/quality models (api/v1/quality.py) both take their
# descriptions from here, so the SDL and OpenAPI say the same thing.
WORDS: dict[str, dict[str, str]] = {
    "example": {
        "": "One row a loader repaired or rejected.",
        "dataset": "The source file (name, URL, sha256).",
        "dataset_id": "The source file's id in /v1/datasets.",
        "file_name": "The source file's name.",
        "row_number": "The row in that file (1 = first row), if any.",
        "column": "The column in question, if one.",
        "value": "The value as the file wrote it.",
    },
    "group": {
        "": "Repairs or rejections of one kind, in one dataset.",
        "dataset": "ice-287g, policies, officials, detainers, …",
        "action": "REPAIRED or REJECTED",
        "column": "The column in question, if one.",
        "reason": "What was wrong, and what was done.",
        "files": "Source files with such rows.",
        "rows": "Rows of this kind, in all those files.",
        "examples": "The first few.",
    },
    "flag": {
        "": "What a cross-check found about one agreement (data unchanged).",
        "kind": "Which cross-check.",
        "agreement": "The agreement flagged.",
        "agency_name": "As the list wrote it.",
        "state": "The agreement's state (USPS code).",
        "model": "The agreement's program model.",
        "detail": "What the check found, in words.",
        "value": "The URL, date or evidence in question.",
        "dataset": "The latest source file showing it.",
        "first_seen": "The first list showing the problem.",
        "last_seen": "The last list showing the problem.",
        "other_agreement": "A rename link's successor.",
        "method": "A rename link's method.",
        "score": "A rename link's name similarity (0-100).",
    },
    "count": {
        "": "How many flags one cross-check raised.",
        "kind": "Which cross-check.",
        "description": "What the cross-check looks for.",
        "count": "Its flags.",
    },
    "disagreement": {
        "": "Where policy sources disagree about one jurisdiction.",
        "kind": "How they disagree: STATUS_DIFFERS, NOT_NAMED (one list names it, another "
        "does not) or DISPUTED (the jurisdiction disputes an assertion).",
        "jurisdiction": "The jurisdiction they disagree about.",
        "jurisdiction_name": "The jurisdiction's name.",
        "state": "Its state (USPS code).",
        "detail": "The disagreement, in words.",
        "sources": "The source titles involved.",
    },
    "report": {
        "": "Known problems in ICE's lists: the loaders' repairs and rejections, and "
        'cross-checks that flag without changing the data (docs/using-the-api.md, "Data '
        'quality").',
        "counts": "How many flags each cross-check raised.",
        "load_issues": "Repairs and rejections, by dataset and reason.",
        "flags": "The flags of every cross-check, or of those named.",
        "policy_disagreements": "Where policy sources disagree (docs/data.md, 'Loading "
        "jurisdiction policies').",
    },
}

EXAMPLES = 3
# IIRIRA, which created 287(g), was signed on 1996-09-30: no MOA is older.
PROGRAM_START = dt.date(1996, 9, 30)


def _only(column: str) -> str:
    """All agreements (`:only` null), or those whose id is in `:only` (an agency page)."""
    return f"(CAST(:only AS bigint[]) IS NULL OR {column} = ANY(CAST(:only AS bigint[])))"


class FlagKind(enum.StrEnum):
    MOA_OF_ANOTHER_AGENCY = "MOA_OF_ANOTHER_AGENCY"
    DATE_OUTSIDE_PROGRAM = "DATE_OUTSIDE_PROGRAM"
    ACTIVE_WITHOUT_MOA = "ACTIVE_WITHOUT_MOA"
    CONFLICTING_DUPLICATE = "CONFLICTING_DUPLICATE"
    RENAME_LINK = "RENAME_LINK"
    MOA_DATE_DISAGREES = "MOA_DATE_DISAGREES"
    POSSIBLE_WRONG_STATE = "POSSIBLE_WRONG_STATE"


FLAG_DESCRIPTIONS = {
    FlagKind.MOA_OF_ANOTHER_AGENCY: "A list gave the agreement an MOA link whose file name "
    "names another agency or another state.",
    FlagKind.DATE_OUTSIDE_PROGRAM: "A list gave a signed date before 287(g) existed "
    "(1996-09-30) or after the list's own publication date.",
    FlagKind.ACTIVE_WITHOUT_MOA: "An active agreement whose latest participating list "
    "gives no MOA link.",
    FlagKind.CONFLICTING_DUPLICATE: "A list named the same agency and model twice with "
    "different details; the loader kept the first row.",
    FlagKind.RENAME_LINK: "ICE listed the agreement on under a new name, after a gap, in "
    "another state or under another model; the link, its kind and why it was made (shared "
    "MOA URL or signing date, name similarity, reviewed override).",
    FlagKind.MOA_DATE_DISAGREES: "The signing date read from the agreement's MOA document "
    "differs from the list's signed date (or the list gives none).",
    FlagKind.POSSIBLE_WRONG_STATE: "The agreement left the lists while the same agency "
    "name and model was listed in another state, but no MOA URL or signing date shows they "
    "are one agreement: not linked (a reviewed override can link them).",
}
MEANINGS.update(dict(FLAG_DESCRIPTIONS.items()))  # the flags' words name their kinds


@dataclass(frozen=True)
class IssueExample:
    dataset_id: int
    file_name: str
    row_number: int | None
    column: str | None
    value: str | None


@dataclass(frozen=True)
class IssueGroup:
    dataset: str
    action: str  # REPAIRED or REJECTED
    column: str | None
    reason: str
    files: int
    rows: int
    examples: list[IssueExample]


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    agreement_id: int
    agency_name: str  # as the list wrote it (the latest row showing the problem)
    state: str
    model: str
    detail: str
    value: str | None = None  # the URL, date or evidence in question
    dataset_id: int | None = None  # the latest list showing it
    first_seen: dt.date | None = None
    last_seen: dt.date | None = None
    other_agreement_id: int | None = None  # a rename's successor
    method: str | None = None  # a rename's method
    score: float | None = None  # a rename's name similarity


@dataclass(frozen=True)
class QualityReport:
    issues: list[IssueGroup]
    flags: list[Flag]
    counts: dict[FlagKind, int] = field(default_factory=dict)
    policy_disagreements: list[PolicyDisagreement] = field(default_factory=list)


_ISSUES = """
WITH issues AS (
    SELECT f.dataset, CAST(i.action AS text) AS action, i."column", i.reason, f.id AS file_id,
           f.name AS file_name, i.row_number, i.value, i.rows,
           row_number() OVER (PARTITION BY f.dataset, i.action, i."column", i.reason
                              ORDER BY f.id, i.row_number, i.id) AS n
    FROM load_issues i
    JOIN load_runs r ON r.id = i.load_run_id
    JOIN source_files f ON f.id = r.source_file_id
)
SELECT dataset, action, "column", reason, count(DISTINCT file_id), sum(rows),
       json_agg(json_build_array(file_id, file_name, row_number, "column", value)
                ORDER BY n) FILTER (WHERE n <= :examples)
FROM issues
GROUP BY dataset, action, "column", reason
ORDER BY dataset, action, sum(rows) DESC, "column", reason
"""

# Every MOA link each agreement was listed with, with the row's own agency name.
_MOA_LINKS = """
SELECT o.agreement_id, g.state_code, CAST(g.model_code AS text), o.moa_url,
       (array_agg(o.agency_name ORDER BY s.published_at DESC, f.fetched_at DESC))[1],
       (array_agg(f.id ORDER BY s.published_at DESC, f.fetched_at DESC))[1],
       min(s.published_on), max(s.published_on)
FROM agreement_observations o
JOIN snapshots s ON s.id = o.snapshot_id
JOIN source_files f ON f.id = s.source_file_id
JOIN agreements g ON g.id = o.agreement_id
WHERE o.moa_url IS NOT NULL AND {only}
GROUP BY o.agreement_id, g.state_code, g.model_code, o.moa_url
ORDER BY o.agreement_id, o.moa_url
"""

# Signed dates outside [1996-09-30, the list's publication]: served dates, and ISO dates
# kept as text because the loader found them implausible (ICE's 5025-07-07).
_DATES = """
WITH dated AS (
    SELECT o.agreement_id, o.agency_name, s.published_on, f.id AS file_id, f.fetched_at,
           s.published_at,
           coalesce(o.signed_on,
                    CASE WHEN o.signed_raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                         THEN to_date(o.signed_raw, 'YYYY-MM-DD') END) AS signed,
           coalesce(o.signed_raw, to_char(o.signed_on, 'YYYY-MM-DD')) AS raw
    FROM agreement_observations o
    JOIN snapshots s ON s.id = o.snapshot_id
    JOIN source_files f ON f.id = s.source_file_id
    WHERE o.signed_on IS NOT NULL OR o.signed_raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
)
SELECT d.agreement_id, g.state_code, CAST(g.model_code AS text), d.raw,
       (array_agg(d.agency_name ORDER BY d.published_at DESC, d.fetched_at DESC))[1],
       (array_agg(d.file_id ORDER BY d.published_at DESC, d.fetched_at DESC))[1],
       min(d.published_on), max(d.published_on), bool_or(d.signed < :start)
FROM dated d JOIN agreements g ON g.id = d.agreement_id
WHERE (d.signed < :start OR d.signed > d.published_on) AND {only}
GROUP BY d.agreement_id, g.state_code, g.model_code, d.raw
ORDER BY d.agreement_id, d.raw
"""

# Active agreements whose latest participating row gives no MOA link.
_WITHOUT_MOA = """
SELECT g.id, g.state_code, CAST(g.model_code AS text), latest.agency_name, latest.file_id,
       g.activated_on, g.last_seen
FROM agreements g
CROSS JOIN LATERAL (
    SELECT o.agency_name, f.id AS file_id FROM agreement_observations o
    JOIN snapshots s ON s.id = o.snapshot_id
    JOIN source_files f ON f.id = s.source_file_id
    WHERE o.agreement_id = g.id AND s.kind = 'PARTICIPATING'
    ORDER BY s.published_at DESC, f.fetched_at DESC, s.id DESC LIMIT 1
) latest
WHERE g.status = 'ACTIVE' AND g.moa_url IS NULL AND {only}
ORDER BY g.id
"""

# A rejected second row for the same agreement (`same agency and model as row N with
# different details`): the kept row N names the agreement.
_DUPLICATES = """
SELECT o.agreement_id, g.state_code, CAST(g.model_code AS text), o.agency_name, f.id,
       s.published_on, i.row_number, o.row_number
FROM load_issues i
JOIN snapshots s ON s.load_run_id = i.load_run_id
JOIN source_files f ON f.id = s.source_file_id
JOIN agreement_observations o
  ON o.snapshot_id = s.id
 AND o.row_number = CAST(substring(i.reason FROM 'as row ([0-9]+) with different details')
                         AS integer)
JOIN agreements g ON g.id = o.agreement_id
WHERE i.action = 'REJECTED' AND i.reason LIKE 'same agency and model as row % with different%'
  AND {only}
ORDER BY o.agreement_id, s.published_at, f.fetched_at
"""

_LINKS = """
SELECT l.predecessor_id, g.state_code, CAST(g.model_code AS text), a.name, l.successor_id,
       b.name, l.method, l.score, l.evidence, g.first_seen, g.last_seen
FROM agreement_links l
JOIN agreements g ON g.id = l.predecessor_id
JOIN agencies a ON a.id = g.agency_id
JOIN agreements h ON h.id = l.successor_id
JOIN agencies b ON b.id = h.agency_id
WHERE {only}
ORDER BY l.predecessor_id
"""


async def load_issue_groups(conn: AsyncConnection) -> list[IssueGroup]:
    rows = await conn.execute(text(_ISSUES), {"examples": EXAMPLES})
    return [
        IssueGroup(
            r[0],
            r[1],
            r[2],
            r[3],
            int(r[4]),
            int(r[5]),
            [IssueExample(int(e[0]), e[1], e[2], e[3], e[4]) for e in r[6] or ()],
        )
        for r in rows
    ]


Only = list[int] | None


async def _moa_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    flags: list[Flag] = []
    for agreement, state, model, url, name, file_id, first, last in await conn.execute(
        text(_MOA_LINKS.replace("{only}", _only("o.agreement_id"))), {"only": only}
    ):
        verdict = judge(url, name, state)
        if not verdict.flagged:
            continue
        said = []
        if verdict.names_other_state:
            said.append(f"names another state ({verdict.file_state})")
        if verdict.names_other_agency:
            words = " ".join(verdict.file_core)
            said.append(f"names another agency ({words!r}, not {' '.join(verdict.agency_core)!r})")
        detail = f"the MOA file {url.rsplit('/', 1)[-1]} " + " and ".join(said)
        flags.append(
            Flag(FlagKind.MOA_OF_ANOTHER_AGENCY, agreement, name, state, model, detail, url,
                 file_id, first, last)
        )  # fmt: skip
    return flags


async def _date_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    rows = await conn.execute(
        text(_DATES.replace("{only}", _only("d.agreement_id"))),
        {"start": PROGRAM_START, "only": only},
    )
    return [
        Flag(
            FlagKind.DATE_OUTSIDE_PROGRAM,
            agreement,
            name,
            state,
            model,
            f"signed {raw}: "
            + ("before 287(g) existed (1996-09-30)" if early else "after the list was published"),
            raw,
            file_id,
            first,
            last,
        )
        for agreement, state, model, raw, name, file_id, first, last, early in rows
    ]


async def _without_moa_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    rows = await conn.execute(text(_WITHOUT_MOA.replace("{only}", _only("g.id"))), {"only": only})
    return [
        Flag(
            FlagKind.ACTIVE_WITHOUT_MOA,
            agreement,
            name,
            state,
            model,
            "active, but the latest participating list gives no MOA link",
            None,
            file_id,
            activated,
            last,
        )
        for agreement, state, model, name, file_id, activated, last in rows
    ]


async def _duplicate_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    rows = await conn.execute(
        text(_DUPLICATES.replace("{only}", _only("o.agreement_id"))), {"only": only}
    )
    return [
        Flag(
            FlagKind.CONFLICTING_DUPLICATE,
            agreement,
            name,
            state,
            model,
            f"row {rejected} repeats row {kept} with different details; row {kept} was kept",
            None,
            file_id,
            published,
            published,
        )
        for agreement, state, model, name, file_id, published, rejected, kept in rows
    ]


_AGREEMENT_NAMES = """
SELECT g.id, g.state_code, CAST(g.model_code AS text), a.name, g.first_seen, g.last_seen
FROM agreements g JOIN agencies a ON a.id = g.agency_id
WHERE g.id = ANY(CAST(:ids AS bigint[]))
"""


async def _state_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    found = [s for s in await conn.run_sync(lineage.suspects) if only is None or s.old_id in only]
    rows = await conn.execute(text(_AGREEMENT_NAMES), {"ids": [s.old_id for s in found]})
    named = {r[0]: r for r in rows}
    return [
        Flag(
            FlagKind.POSSIBLE_WRONG_STATE,
            s.old_id,
            named[s.old_id][3],
            named[s.old_id][1],
            named[s.old_id][2],
            s.evidence,
            None,
            None,
            named[s.old_id][4],
            named[s.old_id][5],
            s.new_id,
        )
        for s in sorted(found, key=lambda s: (s.old_id, s.new_id))
        if s.old_id in named
    ]


async def _link_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    rows = await conn.execute(
        text(_LINKS.replace("{only}", _only("l.predecessor_id"))), {"only": only}
    )
    return [
        Flag(
            FlagKind.RENAME_LINK,
            old,
            old_name,
            state,
            model,
            f"{old_name} → {new_name} ({method}"
            + (f", name similarity {score:g})" if score is not None else ")"),
            evidence,
            None,
            first,
            last,
            new,
            method,
            score,
        )
        for old, state, model, old_name, new, new_name, method, score, evidence, first, last in rows
    ]


# The agreements and MOA files behind `signing_date_disagreements`.
_DISAGREEING = """
SELECT g.id, g.state_code, CAST(g.model_code AS text), a.name, g.first_seen, g.last_seen
FROM agreements g JOIN agencies a ON a.id = g.agency_id
WHERE g.id = ANY(CAST(:agreements AS bigint[]))
"""
_DOCUMENT_FILES = """
SELECT d.id, d.file_name, d.source_file_id,
       (SELECT min(f.page) FROM document_fields f
        WHERE f.document_id = d.id AND f.field = 'signed_on' AND f.value IS NOT NULL)
FROM documents d WHERE d.id = ANY(CAST(:documents AS bigint[]))
"""


async def _document_date_flags(conn: AsyncConnection, only: Only) -> list[Flag]:
    found = [
        d for d in await signing_date_disagreements(conn) if only is None or d.agreement_id in only
    ]
    if not found:
        return []
    agreements = {
        r[0]: r[1:]
        for r in await conn.execute(
            text(_DISAGREEING), {"agreements": sorted({d.agreement_id for d in found})}
        )
    }
    files = {
        r[0]: r[1:]
        for r in await conn.execute(
            text(_DOCUMENT_FILES), {"documents": sorted({d.document_id for d in found})}
        )
    }
    flags = []
    for d in found:
        state, model, name, first, last = agreements[d.agreement_id]
        file_name, source_file_id, page = files[d.document_id]
        where = f"{file_name}" + (f", page {page}" if page else "")
        listed = (
            f"the list says {d.list_signed_on.isoformat()} ({abs(d.days or 0)} days apart)"
            if d.list_signed_on
            else "the list gives no date"
        )
        flags.append(
            Flag(FlagKind.MOA_DATE_DISAGREES, d.agreement_id, name, state, model,
                 f"the MOA ({where}) was signed {d.document_signed_on.isoformat()}; {listed}",
                 d.document_signed_on.isoformat(), source_file_id, first, last)
        )  # fmt: skip
    return flags


async def quality_flags(
    conn: AsyncConnection,
    kinds: frozenset[FlagKind] | None = None,
    agreement_ids: Sequence[int] | None = None,
) -> list[Flag]:
    """The cross-checks' flags (all kinds, or those asked for), by kind then agreement;
    with `agreement_ids`, only those agreements' (an agency page shows its own)."""
    only = None if agreement_ids is None else sorted(set(agreement_ids))
    checks = {
        FlagKind.MOA_OF_ANOTHER_AGENCY: _moa_flags,
        FlagKind.DATE_OUTSIDE_PROGRAM: _date_flags,
        FlagKind.ACTIVE_WITHOUT_MOA: _without_moa_flags,
        FlagKind.CONFLICTING_DUPLICATE: _duplicate_flags,
        FlagKind.RENAME_LINK: _link_flags,
        FlagKind.MOA_DATE_DISAGREES: _document_date_flags,
        FlagKind.POSSIBLE_WRONG_STATE: _state_flags,
    }
    flags: list[Flag] = []
    for kind, check in checks.items():
        if kinds is None or kind in kinds:
            flags += await check(conn, only)
    return flags


async def quality_report(
    conn: AsyncConnection, kinds: frozenset[FlagKind] | None = None
) -> QualityReport:
    flags = await quality_flags(conn, kinds)
    counts = {kind: 0 for kind in FlagKind if kinds is None or kind in kinds}
    for flag in flags:
        counts[flag.kind] += 1
    disagreements = await policy_disagreements(conn)
    return QualityReport(await load_issue_groups(conn), flags, counts, disagreements)
