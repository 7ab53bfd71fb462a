"""The rename matcher: which agreement that left ICE's lists continues as which new one.

Pure (no database), so the rules can be tested on their own. Two agreements are one,
renamed, when all of these hold:

- same state and same program model;
- the predecessor is on neither latest list, the successor outlives it
  (`successor.last_seen > predecessor.last_seen`), did not appear before it
  (`successor.first_seen >= predecessor.first_seen`), and arrived by the time it left or
  at most `ARRIVAL_GAP_DAYS` later (ICE sometimes skips a list between the two names);
  the two may overlap (`City of St. Cloud PD` and `St. Cloud PD` were listed together);
- and either the folded names are near-identical (`name_score` ≥ `NAME_THRESHOLD`), or
  both rows carried the identical MOA URL and the names still have something in common
  (`name_score` ≥ `URL_NAME_FLOOR`: ICE has put one agency's MOA link on another's row,
  so a shared URL alone is not proof).

`name_score` is rapidfuzz `ratio` (0-100) of the names' *cores*: the folded name without
the words that say what kind of body it is (`City of`, `County`, `Parish`, `Sheriff's
Office`, `Police Department`, `Board of Trustees`, …, and a trailing state code). Cores
carry the place: `Lafourche County SO` and `Lafourche Parish SO` are both `LAFOURCHE`
(100), `Indialantic` and `Indiatlantic` score 96, while `Ellis` and `Jewell` (two Kansas
sheriffs) score 36. One agreement has at most one successor and one predecessor; when
several candidates qualify, a shared MOA URL wins, then the higher score, then the
earlier arrival.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

NAME_THRESHOLD = 90.0
URL_NAME_FLOOR = 60.0
ARRIVAL_GAP_DAYS = 14

_GENERIC = frozenset(
    {
        *("CITY", "TOWN", "VILLAGE", "OF", "THE", "COUNTY", "PARISH", "BOROUGH"),
        *("SHERIFF", "SHERIFFS", "OFFICE", "POLICE", "DEPARTMENT", "DEPT", "PD", "SO"),
        *("CONSTABLE", "CONSTABLES", "MARSHAL", "MARSHALS", "CORRECTIONS", "CORRECTIONAL"),
        *("FACILITY", "DETENTION", "CENTER", "JAIL", "BOARD", "TRUSTEES", "COMMISSIONERS"),
    }
)
_STATE_CODE = re.compile(r"\s[A-Z]{2}$")


@dataclass(frozen=True)
class Candidate:
    """What the matcher needs to know about one agreement."""

    id: int
    state_code: str
    model_code: str
    name: str
    first_seen: dt.date
    last_seen: dt.date
    current: bool  # on the latest participating or pending list
    moa_urls: frozenset[str]


@dataclass(frozen=True)
class Link:
    predecessor_id: int
    successor_id: int
    method: str  # moa-url | name-similarity | override
    score: float | None
    evidence: str


def fold(name: str) -> str:
    """Upper case, no accents, apostrophes or quotes; `&` is AND; other punctuation a space."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = re.sub(r"['’‘`\"“”]", "", text).replace("&", " AND ")
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", text).split())


def _generic(token: str) -> bool:
    # A word cut short (`Sheriff's Offic`) is still the word.
    return token in _GENERIC or (
        len(token) >= 4 and any(word.startswith(token) for word in _GENERIC)
    )


def core(name: str, state_code: str) -> str:
    folded = fold(name)
    if folded.endswith(f" {state_code}"):
        folded = _STATE_CODE.sub("", folded)
    return " ".join(token for token in folded.split() if not _generic(token))


def name_score(a: str, b: str, state_code: str) -> float:
    core_a, core_b = core(a, state_code), core(b, state_code)
    if core_a and core_b:
        return round(float(fuzz.ratio(core_a, core_b)), 1)
    return round(float(fuzz.ratio(fold(a), fold(b))), 1)


def _timing_fits(old: Candidate, new: Candidate) -> bool:
    return (
        not old.current
        and new.last_seen > old.last_seen
        and new.first_seen >= old.first_seen
        and (new.first_seen - old.last_seen).days <= ARRIVAL_GAP_DAYS
    )


def propose(candidates: Iterable[Candidate]) -> list[Link]:
    """Every pair the rules accept, as links with their evidence (not yet one-to-one)."""
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for c in candidates:
        groups.setdefault((c.state_code, c.model_code), []).append(c)
    links: list[Link] = []
    for group in groups.values():
        for old in group:
            if old.current:
                continue
            for new in group:
                if new.id == old.id or not _timing_fits(old, new):
                    continue
                score = name_score(old.name, new.name, old.state_code)
                shared = sorted(old.moa_urls & new.moa_urls)
                if shared and score >= URL_NAME_FLOOR:
                    links.append(Link(old.id, new.id, "moa-url", score, shared[0]))
                elif score >= NAME_THRESHOLD:
                    evidence = f"{old.name} → {new.name}"
                    links.append(Link(old.id, new.id, "name-similarity", score, evidence))
    return links


def resolve(
    proposed: Sequence[Link],
    arrivals: dict[int, dt.date],
    forced: Sequence[Link] = (),
    forbidden: frozenset[tuple[int, int]] = frozenset(),
) -> list[Link]:
    """One successor and one predecessor per agreement. Reviewed links (`forced`) come
    first; then the matcher's, best first; `forbidden` pairs are never linked."""

    def rank(link: Link) -> tuple[int, float, dt.date, int, int]:
        return (
            0 if link.method == "moa-url" else 1,
            -(link.score or 0.0),
            arrivals.get(link.successor_id, dt.date.max),
            link.predecessor_id,
            link.successor_id,
        )

    successor_of: dict[int, int] = {}
    taken_new: set[int] = set()
    chosen: list[Link] = []
    for link in [*forced, *sorted(proposed, key=rank)]:
        pair = (link.predecessor_id, link.successor_id)
        if pair in forbidden and link.method != "override":
            continue
        if link.predecessor_id in successor_of or link.successor_id in taken_new:
            continue
        if _reaches(successor_of, link.successor_id, link.predecessor_id):
            continue  # a reviewed link may not close a loop
        successor_of[link.predecessor_id] = link.successor_id
        taken_new.add(link.successor_id)
        chosen.append(link)
    return sorted(chosen, key=lambda link: link.predecessor_id)


def _reaches(successor_of: dict[int, int], start: int, target: int) -> bool:
    seen: set[int] = set()
    node: int | None = start
    while node is not None and node not in seen:
        if node == target:
            return True
        seen.add(node)
        node = successor_of.get(node)
    return False
