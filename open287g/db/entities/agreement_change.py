"""AgreementChange: an agreement added, ended, renamed or changed between two dates' lists
(`agreementChanges`). Its rows come only from that query
(`db/queries/agreements.py` `changes_page_query`): each is the agreement's own row with
its `kind`, so `agreement` is that row, embedded."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, Relation
from open287g.db.queries.agreements import AgreementChangeKind

AGREEMENT_CHANGE = Entity(
    name="AgreementChange",
    table="agreements {t}",
    node=False,
    columns=(Column("kind", "{t}.kind", AgreementChangeKind),),
    relations=(Relation("agreement", "Agreement", "embed", nullable=False),),
)
