"""AgreementChange: an agreement added, ended, withdrawn, renamed, switched or changed
between two dates' lists (`agreementChanges`). Its rows come only from that query
(`db/queries/agreements.py` `changes_page_query`): each is the agreement's own row with
its `kind`, the date and the file of the list that showed the change, so `agreement` is
that row, embedded."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.dataset import FILES
from open287g.db.entities.declare import Column, Entity, Relation
from open287g.db.queries.agreements import AgreementChangeKind

AGREEMENT_CHANGE = Entity(
    name="AgreementChange",
    table="agreements {t}",
    node=False,
    description="An agreement added, ended or changed between two dates' lists.",
    columns=(
        Column(
            "kind", "{t}.kind", AgreementChangeKind, "What changed: added, ended, status, details."
        ),
        Column(
            "date",
            "{t}.changed_on",
            dt.date | None,
            "Publication date of the list that showed the change: for one that left, the "
            "first list (of the kind that last carried it) without it; else the first list "
            "after `from` that carried it as it is now.",
        ),
        # The field's first name, kept for clients written before the SPEC's `date`.
        Column(
            "changed_on",
            "{t}.changed_on",
            dt.date | None,
            "The same as `date`.",
            deprecation="Use `date` (the name the specification fixes).",
        ),
    ),
    relations=(
        Relation(
            "agreement", "Agreement", "embed", nullable=False, description="The agreement now."
        ),
        Relation(
            "list",
            "Dataset",
            "one",
            f"{FILES} {{c}} WHERE {{c}}.id = {{t}}.list_file_id",
            description="The ICE list (source file) that showed the change.",
        ),
    ),
)
