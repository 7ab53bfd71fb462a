"""AgreementLink: one rename, the lineage link table's row (`db/models/lineage.py`), and
the lineage columns of an agreement that follow from those links."""

from __future__ import annotations

import enum

from open287g.db.entities.declare import Column, Entity, Relation
from open287g.db.lineage_match import LinkKind
from open287g.db.models.enums import MEANINGS


class LinkMethod(enum.Enum):
    """Why a link was made. The values are the table's; the API shows the names."""

    MOA_URL = "moa-url"
    NAME_SIMILARITY = "name-similarity"
    SIGNED_DATE = "signed-date"
    OVERRIDE = "override"


MEANINGS.update(
    {
        LinkMethod.MOA_URL: "The new name's row links the old agreement's MOA.",
        LinkMethod.NAME_SIMILARITY: "Same state and model, names alike, one leaving as the "
        "other arrives.",
        LinkMethod.SIGNED_DATE: "The same signing date under the new name.",
        LinkMethod.OVERRIDE: "A maintainer's decision, recorded with its reason.",
    }
)
MEANINGS.update(
    {
        LinkKind.RENAME: "The agency's name changed; the agreement goes on under the new one.",
        LinkKind.RELISTING: "Listed again after a gap.",
        LinkKind.SWITCH: "The agency moved to another program model.",
        LinkKind.STATE: "ICE corrected the agency's state.",
    }
)


# The first publication date of the agreement `{t}`'s lineage: its own firstSeen or an
# earlier one of any predecessor (a rename does not restart the history; a model switch
# starts a new agreement). A read model the loads keep (`agreements.lineage_first_seen`,
# db/ingest/lineage.py): walking the links for every row of a page was half its statement.
LINEAGE_FIRST_SEEN = "{t}.lineage_first_seen"


def link_relation(name: str, end: str, description: str) -> Relation:
    """The link at one end of the agreement `{t}`: `end` is the column that names it
    (`successor_id` finds the link to its predecessor). An agreement has at most one of
    each (the table's primary key and unique constraint)."""
    return Relation(
        name,
        "AgreementLink",
        "one",
        f"agreement_links {{c}} WHERE {{c}}.{end} = {{t}}.id",
        description=description,
        unique=True,
    )


def linked_relation(
    name: str, end: str, other: str, description: str, *, switch: bool = False
) -> Relation:
    """The agreement at the other end (`other`) of the link where `{t}` is `end`: a
    model switch's (`switch`) or any other kind's (rename, relisting, corrected state)."""
    kind = "=" if switch else "<>"
    return Relation(
        name,
        "Agreement",
        "one",
        f"agreements {{c}} WHERE {{c}}.id = (SELECT l.{other} FROM agreement_links l"
        f" WHERE l.{end} = {{t}}.id AND l.kind {kind} 'SWITCH')",
        description=description,
    )


def _end(name: str) -> Relation:
    return Relation(
        name,
        "Agreement",
        "one",
        f"agreements {{c}} WHERE {{c}}.id = {{t}}.{name}_id",
        nullable=False,
        unique=True,
        description=f"The agreement {'listed before' if name == 'predecessor' else 'listed after'} "
        "the rename.",
    )


AGREEMENT_LINK = Entity(
    name="AgreementLink",
    table="agreement_links {t}",
    key="{t}.predecessor_id",
    node=False,
    description="One continuation: `predecessor` was listed until `successor` took its "
    'place (docs/data.md, "Lineage"): a rename, a relisting after a gap, a corrected state, or a '
    "switch to another program model (`kind`).",
    columns=(
        Column("kind", "{t}.kind", LinkKind, "What the continuation is (LinkKind)."),
        Column(
            "gap_days",
            "{t}.gap_days",
            int | None,
            "Days from the predecessor's last list to the successor's next one (0: listed "
            "together).",
        ),
        Column("method", "{t}.method", LinkMethod, "How the link was found."),
        Column(
            "score",
            "{t}.score",
            float | None,
            "rapidfuzz similarity (0-100) of the two names' cores.",
        ),
        Column(
            "evidence",
            "{t}.evidence",
            str,
            "The shared MOA URL or signing date, the two names compared and the gap, or the "
            "reviewer's note.",
        ),
    ),
    relations=(_end("predecessor"), _end("successor")),
)
