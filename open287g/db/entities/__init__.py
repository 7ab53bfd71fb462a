"""Every entity of the API, declared once (see `declare`): by GraphQL type name."""

from __future__ import annotations

from open287g.db.entities import page_text, statistics
from open287g.db.entities.agency import AGENCY
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.agreement_change import AGREEMENT_CHANGE
from open287g.db.entities.agreement_link import AGREEMENT_LINK
from open287g.db.entities.computed import Compute
from open287g.db.entities.dataset import DATASET
from open287g.db.entities.declare import Entity
from open287g.db.entities.document import DOCUMENT, DOCUMENT_MATCH, EXTRACTED_VALUE, SIGNATORY
from open287g.db.entities.facility import FACILITY
from open287g.db.entities.jurisdiction import JURISDICTION
from open287g.db.entities.observation import OBSERVATION
from open287g.db.entities.official import OFFICIAL, OFFICIAL_SOURCE
from open287g.db.entities.page_text import PAGE_TEXT
from open287g.db.entities.policy import POLICY, POLICY_SOURCE
from open287g.db.entities.program_model import PROGRAM_MODEL
from open287g.db.entities.statistics import (
    AGREEMENT_STAT,
    AGREEMENT_STAT_KEY,
    DETAINER_STAT,
    DETAINER_STAT_KEY,
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        AGREEMENT,
        AGREEMENT_LINK,
        AGREEMENT_CHANGE,
        AGENCY,
        JURISDICTION,
        FACILITY,
        POLICY,
        POLICY_SOURCE,
        PROGRAM_MODEL,
        OFFICIAL,
        OFFICIAL_SOURCE,
        DATASET,
        OBSERVATION,
        DOCUMENT,
        DOCUMENT_MATCH,
        SIGNATORY,
        EXTRACTED_VALUE,
        AGREEMENT_STAT,
        AGREEMENT_STAT_KEY,
        DETAINER_STAT,
        DETAINER_STAT_KEY,
        PAGE_TEXT,
    )
}

# The computed entities (rows from a field's arguments and a scope over the parent row).
COMPUTED: dict[str, Compute] = {
    **statistics.COMPUTED,
    **page_text.COMPUTED,
}
