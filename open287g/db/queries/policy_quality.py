"""Where policy sources disagree (the quality report's `policy_disagreements`).

Every assertion is kept (README "Policies"); this finds where they do not agree:

- `STATUS_DIFFERS`: two sources assert different statuses about one jurisdiction;
- `NOT_NAMED`: a list names a state another list leaves out. A source is a *list of
  states* when it names at least two states (the brief's six, the DOJ's fourteen); its
  silence about a state is read as "not named" (a single state's law, like Texas S.B. 8,
  is no list: it says nothing of the other states);
- `DISPUTED`: an assertion whose notes say the jurisdiction disputes it (Baltimore County
  disputed the DOJ's designation the day it was published).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.enums import MEANINGS


class DisagreementKind(enum.StrEnum):
    """How policy sources disagree (module doc)."""

    STATUS_DIFFERS = "STATUS_DIFFERS"
    NOT_NAMED = "NOT_NAMED"
    DISPUTED = "DISPUTED"


MEANINGS.update(
    {
        DisagreementKind.STATUS_DIFFERS: "Two sources assert different statuses.",
        DisagreementKind.NOT_NAMED: "A list of states names it, another list leaves it out.",
        DisagreementKind.DISPUTED: "The jurisdiction disputes an assertion about it.",
    }
)


@dataclass(frozen=True)
class PolicyDisagreement:
    kind: DisagreementKind
    jurisdiction_id: int
    jurisdiction_name: str
    state: str
    detail: str
    sources: tuple[str, ...]  # the source titles involved


_ASSERTIONS = """
SELECT j.id, j.name, j.state_code, CAST(j.kind AS text), p.source_key,
       coalesce(p.source_title, '(untitled source)'), CAST(p.status AS text),
       coalesce(p.notes, '')
FROM policies p JOIN jurisdictions j ON j.id = p.jurisdiction_id
ORDER BY j.state_code, j.id, p.source_key, p.id
"""


async def policy_disagreements(conn: AsyncConnection) -> list[PolicyDisagreement]:
    rows = (await conn.execute(text(_ASSERTIONS))).all()
    titles: dict[str, str] = {}
    by_place: dict[int, dict[str, set[str]]] = {}
    names: dict[int, tuple[str, str, str]] = {}
    states_named: dict[str, set[int]] = {}
    found: list[PolicyDisagreement] = []
    for jid, name, state, kind, source, title, status, notes in rows:
        titles.setdefault(source, title)
        names[jid] = (name, state, kind)
        by_place.setdefault(jid, {}).setdefault(source, set()).add(status)
        if kind == "STATE":
            states_named.setdefault(source, set()).add(jid)
        if "disput" in notes.lower():
            found.append(
                PolicyDisagreement(
                    DisagreementKind.DISPUTED, jid, name, state,
                    f"{name} disputes this assertion ({status}): {notes}", (title,),
                )
            )  # fmt: skip
    for jid, sources in by_place.items():
        statuses = {s for found_statuses in sources.values() for s in found_statuses}
        if len(statuses) > 1:
            name, state, _ = names[jid]
            said = "; ".join(
                f"{titles[s]}: {', '.join(sorted(v))}" for s, v in sorted(sources.items())
            )
            found.append(
                PolicyDisagreement(
                    DisagreementKind.STATUS_DIFFERS, jid, name, state,
                    f"The sources assert different statuses for {name}: {said}",
                    tuple(titles[s] for s in sorted(sources)),
                )
            )  # fmt: skip
    lists = {s: ids for s, ids in states_named.items() if len(ids) >= 2}
    for source, ids in sorted(lists.items()):
        for other, other_ids in sorted(lists.items()):
            for jid in sorted(ids - other_ids):
                name, state, _ = names[jid]
                found.append(
                    PolicyDisagreement(
                        DisagreementKind.NOT_NAMED, jid, name, state,
                        f"{name} is named by {titles[source]} and not by {titles[other]}",
                        (titles[source], titles[other]),
                    )
                )  # fmt: skip
    return sorted(found, key=lambda d: (d.kind, d.state, d.jurisdiction_name, d.sources))
