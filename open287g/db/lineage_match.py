"""The lineage matcher: which agreement that left ICE's lists goes on as which other one.

Pure (no database), so the rules can be tested on their own, on generated list sequences
(`tests/loaders/test_lifecycle_generated.py`). ICE's lists rename agencies, list a misspelled name
for a few days beside or instead of the right one and then go back, drop an application
and relist it under a new name weeks later, move an agency to another program model, and
put a row under the wrong state. Each must end as one agreement with its history, never a
phantom agreement plus a phantom termination. An old agreement links to a new one when:

- the old one is on neither latest list, and the new one is listed after the old one's
  last sighting (`new.last_seen > old.last_seen`);
- the new one is back (listed on or after the old one's last list) within
  `ARRIVAL_GAP_DAYS` (a RENAME; the two may overlap, or the new name may be the right one
  that was listed all along: `City of St. Cloud PD` beside `St. Cloud PD`, a misspelling
  that undoes itself), or within `RELIST_GAP_DAYS` (a RELISTING: East Donegal Township PA,
  pending 2025-05-21, relisted under a new name 51 days later);
- the names' *cores* are near-identical (`name_score` ≥ `NAME_THRESHOLD`) and do not name
  different kinds of body (a sheriff is not a police department), or both rows carried
  the identical MOA URL and the cores still score ≥ `URL_NAME_FLOOR` (ICE has put one
  agency's MOA link on another's row, so a shared URL alone is not proof);
- same state and same program model, with two exceptions, each a kind of its own:
  a SWITCH (same state, same agency core, another model; the new model arrived after the
  old one was first listed and within `ARRIVAL_GAP_DAYS` of its last sighting: Butler PA's
  WSO, 2025-05-22, then a Task Force MOA, 2025-06-12), and a STATE correction (same model,
  another state) only with evidence: the identical MOA URL or the same signing date. A
  same-named agreement in another state without such evidence is never linked, only
  flagged (`state_suspects`): the lists alone cannot say which state is right.

`name_score` is rapidfuzz `ratio` (0-100) of the names' *cores*: the folded name without
the words that say what kind of body it is (`City of`, `County`, `Parish`, `Sheriff's
Office`, `Police Department`, `Board of Trustees`, …, and a trailing state code). Cores
carry the place: `Lafourche County SO` and `Lafourche Parish SO` are both `LAFOURCHE`
(100), `Indialantic` and `Indiatlantic` score 96, while `Ellis` and `Jewell` (two Kansas
sheriffs) score 36. One agreement has at most one successor and one predecessor; when
several candidates qualify, same state and model beat a state correction, which beats a
switch; then a shared MOA URL, the higher score, the shorter gap, the earlier arrival.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

NAME_THRESHOLD = 90.0
URL_NAME_FLOOR = 60.0
ARRIVAL_GAP_DAYS = 14
RELIST_GAP_DAYS = 120

_GENERIC = frozenset(
    {
        *("CITY", "TOWN", "VILLAGE", "OF", "THE", "COUNTY", "PARISH", "BOROUGH"),
        *("SHERIFF", "SHERIFFS", "OFFICE", "POLICE", "DEPARTMENT", "DEPT", "PD", "SO"),
        *("CONSTABLE", "CONSTABLES", "MARSHAL", "MARSHALS", "CORRECTIONS", "CORRECTIONAL"),
        *("FACILITY", "DETENTION", "CENTER", "JAIL", "BOARD", "TRUSTEES", "COMMISSIONERS"),
    }
)
# Words that say which kind of body a name is; two names of different kinds are two bodies
# (`Jackson County Sheriff's Office` and `Jackson Police Department` share the core JACKSON).
_BODY_KINDS = {
    "SHERIFF": "sheriff", "SHERIFFS": "sheriff", "SO": "sheriff",
    "POLICE": "police", "PD": "police",
    "CONSTABLE": "constable", "CONSTABLES": "constable",
    "MARSHAL": "marshal", "MARSHALS": "marshal",
}  # fmt: skip
_STATE_CODE = re.compile(r"\s[A-Z]{2}$")


class LinkKind(enum.StrEnum):
    """What kind of continuation a link is. The values are the table's and the API's."""

    RENAME = "RENAME"
    RELISTING = "RELISTING"
    SWITCH = "SWITCH"
    STATE = "STATE"


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
    seen: tuple[dt.date, ...] = ()  # every publication date naming it, oldest first
    signed: frozenset[dt.date] = frozenset()  # every signing date its rows gave

    def back_after(self, day: dt.date) -> dt.date | None:
        """Its first sighting on or after `day` (None: not listed since). Without the
        dates of every sighting, it counts as listed from first_seen to last_seen."""
        if not self.seen:
            return max(day, self.first_seen) if self.last_seen >= day else None
        return next((seen for seen in self.seen if seen >= day), None)


@dataclass(frozen=True)
class Link:
    predecessor_id: int
    successor_id: int
    method: str  # moa-url | name-similarity | signed-date | override
    score: float | None
    evidence: str
    kind: LinkKind = LinkKind.RENAME
    gap_days: int | None = None  # days between the old one's last list and the new one's next


@dataclass(frozen=True)
class Suspect:
    """A same-named agreement of the same model in another state that took over from one
    that left, without an MOA URL or signing date to prove it is the same: flagged."""

    old_id: int
    new_id: int
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


def body_kinds(name: str) -> frozenset[str]:
    return frozenset(_BODY_KINDS[t] for t in fold(name).split() if t in _BODY_KINDS)


def _bodies_agree(a: str, b: str) -> bool:
    kinds_a, kinds_b = body_kinds(a), body_kinds(b)
    return not kinds_a or not kinds_b or bool(kinds_a & kinds_b)


def _gap(old: Candidate, new: Candidate) -> int | None:
    """Days from the old one's last list to the new one's next (0: listed together);
    None when the timing rules out a link."""
    if old.current or new.last_seen <= old.last_seen:
        return None
    back = new.back_after(old.last_seen)
    return None if back is None else (back - old.last_seen).days


def _kind(old: Candidate, new: Candidate, gap: int) -> LinkKind | None:
    if old.model_code != new.model_code:
        if old.state_code != new.state_code or new.first_seen <= old.first_seen:
            return None  # two models listed side by side are two agreements
        return LinkKind.SWITCH if gap <= ARRIVAL_GAP_DAYS else None
    if old.state_code != new.state_code:
        return LinkKind.STATE if gap <= RELIST_GAP_DAYS else None
    if gap <= ARRIVAL_GAP_DAYS:
        return LinkKind.RENAME
    return LinkKind.RELISTING if gap <= RELIST_GAP_DAYS else None


def _describe(old: Candidate, new: Candidate, kind: LinkKind, gap: int) -> str:
    said = f"{old.name} ({old.state_code}, {old.model_code}) → {new.name}"
    if kind is LinkKind.STATE:
        said += f" ({new.state_code})"
    if kind is LinkKind.SWITCH:
        said += f" ({new.model_code})"
    if gap:
        days = "day" if gap == 1 else "days"
        said += f"; absent {gap} {days} ({old.last_seen} → {old.last_seen + dt.timedelta(gap)})"
    return said


def _pair(old: Candidate, new: Candidate) -> Link | None:
    gap = _gap(old, new)
    if gap is None:
        return None
    kind = _kind(old, new, gap)
    if kind is None:
        return None
    score = name_score(old.name, new.name, old.state_code)
    if kind is LinkKind.STATE:
        score = max(score, name_score(old.name, new.name, new.state_code))
    shared = sorted(old.moa_urls & new.moa_urls)
    same_date = sorted(old.signed & new.signed)
    said = _describe(old, new, kind, gap)
    if shared and score >= URL_NAME_FLOOR:
        return Link(old.id, new.id, "moa-url", score, f"{shared[0]}; {said}", kind, gap)
    if score < NAME_THRESHOLD or not _bodies_agree(old.name, new.name):
        return None
    if kind is LinkKind.STATE:
        if not same_date:
            return None  # no evidence beyond the name: flagged, never linked
        evidence = f"both signed {same_date[0]}; {said}"
        return Link(old.id, new.id, "signed-date", score, evidence, kind, gap)
    return Link(old.id, new.id, "name-similarity", score, said, kind, gap)


def propose(candidates: Iterable[Candidate]) -> list[Link]:
    """Every pair the rules accept, as links with their evidence (not yet one-to-one)."""
    found = list(candidates)
    by_model: dict[str, list[Candidate]] = {}
    by_state: dict[str, list[Candidate]] = {}
    for c in found:
        by_model.setdefault(c.model_code, []).append(c)
        by_state.setdefault(c.state_code, []).append(c)
    links: list[Link] = []
    for old in found:
        if old.current:
            continue
        # Same model (any state), then the same state's other models (switches).
        others = by_model[old.model_code] + [
            c for c in by_state[old.state_code] if c.model_code != old.model_code
        ]
        for new in others:
            if new.id != old.id and (link := _pair(old, new)) is not None:
                links.append(link)
    return links


def state_suspects(candidates: Iterable[Candidate], links: Sequence[Link]) -> list[Suspect]:
    """Agreements that left while a same-named one of the same model in another state took
    over (it arrived as the old one left, or was absent while the old one was listed), and
    that the links do not already explain. Two same-named counties of two states listed
    side by side (Jackson County SO, MN and TX) are two agreements, not a suspect."""
    found = list(candidates)
    linked = {link.predecessor_id for link in links}
    by_model: dict[str, list[Candidate]] = {}
    for c in found:
        by_model.setdefault(c.model_code, []).append(c)
    suspects: list[Suspect] = []
    for old in found:
        if old.id in linked:
            continue
        for new in by_model[old.model_code]:
            if new.state_code == old.state_code:
                continue
            gap = _gap(old, new)
            if gap is None or gap > ARRIVAL_GAP_DAYS or not _took_over(old, new):
                continue
            if name_score(old.name, new.name, old.state_code) >= NAME_THRESHOLD and _bodies_agree(
                old.name, new.name
            ):
                suspects.append(
                    Suspect(
                        old.id,
                        new.id,
                        f"{old.name} ({old.state_code}) listed {old.first_seen} to "
                        f"{old.last_seen}; {new.name} ({new.state_code}) from {new.first_seen};"
                        " no shared MOA URL or signing date",
                    )
                )
    return suspects


def _took_over(old: Candidate, new: Candidate) -> bool:
    arrived_as_it_left = new.first_seen >= old.last_seen - dt.timedelta(ARRIVAL_GAP_DAYS)
    absent_meanwhile = not any(old.first_seen <= d <= old.last_seen for d in new.seen)
    return arrived_as_it_left or (bool(new.seen) and absent_meanwhile)


_KIND_RANK = {LinkKind.RENAME: 0, LinkKind.RELISTING: 0, LinkKind.STATE: 1, LinkKind.SWITCH: 2}


def resolve(
    proposed: Sequence[Link],
    arrivals: dict[int, dt.date],
    forced: Sequence[Link] = (),
    forbidden: frozenset[tuple[int, int]] = frozenset(),
) -> list[Link]:
    """One successor and one predecessor per agreement. Reviewed links (`forced`) come
    first; then the matcher's, best first; `forbidden` pairs are never linked."""

    def rank(link: Link) -> tuple[int, int, float, int, dt.date, int, int]:
        return (
            _KIND_RANK[link.kind],
            0 if link.method == "moa-url" else 1,
            -(link.score or 0.0),
            link.gap_days or 0,
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
            continue  # a link may not close a loop
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
