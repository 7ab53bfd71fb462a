"""All models, imported here so `Base.metadata` is complete for Alembic and tests."""

from open287g.db.models.agreements import Agency, Agreement, AgreementObservation, Snapshot
from open287g.db.models.base import Base
from open287g.db.models.derived import DerivedRefresh
from open287g.db.models.detainers import DetainerFacility, DetainerStat, FacilityOverride
from open287g.db.models.disclosure import DetainerCell, DetainerTotal, DisclosureKey
from open287g.db.models.documents import Document, DocumentAgreement, DocumentField, DocumentPage
from open287g.db.models.lineage import AgreementLink, LineageOverride
from open287g.db.models.policies import Official, Policy
from open287g.db.models.provenance import Change, LoadIssue, LoadRun, SourceFile
from open287g.db.models.reference import Jurisdiction, PlacementOverride, ProgramModel
from open287g.db.models.sync import SyncFile, SyncLink, SyncState

__all__ = [
    "Agency",
    "Agreement",
    "AgreementLink",
    "AgreementObservation",
    "Base",
    "Change",
    "DerivedRefresh",
    "DetainerCell",
    "DetainerFacility",
    "DetainerStat",
    "DetainerTotal",
    "DisclosureKey",
    "Document",
    "DocumentAgreement",
    "DocumentField",
    "DocumentPage",
    "FacilityOverride",
    "Jurisdiction",
    "LineageOverride",
    "LoadIssue",
    "LoadRun",
    "Official",
    "PlacementOverride",
    "Policy",
    "ProgramModel",
    "Snapshot",
    "SourceFile",
    "SyncFile",
    "SyncLink",
    "SyncState",
]
