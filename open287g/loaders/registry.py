"""Every data source, in one list: each declares (`loaders.commands.Source`) the dataset
its files are recorded under, its `load` command (which parses the files and ingests them
through `db/ingest/`) and how its rows go when `datasets remove` removes its files.

The order is the order of `open287g load --help` and of the removal steps.
Adding a source: see docs/contributing.md ("A new source").
"""

from __future__ import annotations

from collections.abc import Mapping

from open287g.db.ingest.removed import RemovalStep
from open287g.loaders.commands import Source
from open287g.loaders.detainers.cli import DETAINERS
from open287g.loaders.facility_overrides import FACILITY_OVERRIDES
from open287g.loaders.ice287g.cli import ICE_287G
from open287g.loaders.lineage_overrides import LINEAGE_OVERRIDES
from open287g.loaders.moas.cli import MOAS
from open287g.loaders.officials import OFFICIALS
from open287g.loaders.placement_overrides import PLACEMENT_OVERRIDES
from open287g.loaders.policies import POLICIES

SOURCES: tuple[Source, ...] = (
    ICE_287G,
    DETAINERS,
    POLICIES.source,
    OFFICIALS.source,
    LINEAGE_OVERRIDES.source,
    FACILITY_OVERRIDES.source,
    PLACEMENT_OVERRIDES.source,
    MOAS,
)

REMOVALS: Mapping[str, RemovalStep | None] = {source.dataset: source.remove for source in SOURCES}
