"""The home page: what the service holds and how fresh it is, headline numbers, a map of
active agreements per state (with small multiples per model), agreements over time, and a
table of states. Every number is read through the query layer the APIs use."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries import agreements, changes, jurisdictions, reference, timeline
from open287g.db.queries.agreements import AgreementDimension as Dim
from open287g.db.queries.jurisdictions import PolicyRecord
from open287g.db.reference_data import STATES
from open287g.pages import charts, geo

MODEL_COLOURS = {
    "JAIL_ENFORCEMENT": "#0072B2",
    "TASK_FORCE": "#D55E00",
    "WARRANT_SERVICE_OFFICER": "#009E73",
    "TRIBAL_TASK_FORCE": "#CC79A7",
}
MARKED_POLICIES = ("RESTRICTS", "MANDATES")


@dataclass
class StateRow:
    code: str
    name: str
    fips: str
    path: str
    active_by_model: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    ended: int = 0
    renamed: int = 0
    policy: PolicyRecord | None = None

    @property
    def active(self) -> int:
        return sum(self.active_by_model.values())

    @property
    def policy_status(self) -> str:
        return self.policy.status if self.policy else "UNKNOWN"

    def colour(self, model: str | None = None) -> str:
        count = self.active if model is None else self.active_by_model.get(model, 0)
        return charts.map_colour(count)


@dataclass
class HomeView:
    version: changes.DataVersion
    latest_lists: list[reference.DatasetRecord]  # the newest participating and pending file
    files_loaded: dict[str, int]
    models: list[reference.ProgramModelRecord]
    states: list[StateRow]
    by_status: dict[str, int]
    active_by_model: dict[str, int]
    chart: charts.LineChart
    chart_days: list[str]
    pending_columns: list[tuple[str, list[int]]]
    legend: list[tuple[str, str]]
    sources: list[jurisdictions.SourceCoverage]  # the policy sources the headline rests on
    archive: timeline.ArchiveStart  # the ICE lists every agreement number rests on
    model_colours: dict[str, str] = field(default_factory=lambda: dict(MODEL_COLOURS))
    width: int = geo.WIDTH
    height: int = geo.HEIGHT

    @property
    def marked_states(self) -> list[StateRow]:
        return [s for s in self.states if s.policy_status in MARKED_POLICIES]

    def states_with(self, status: str) -> list[StateRow]:
        return [s for s in self.states if s.policy_status == status]

    @property
    def detainers_loaded(self) -> bool:
        """Whether any detainer release is loaded: the page promises none otherwise."""
        return self.files_loaded.get("detainers", 0) > 0


def latest_lists(datasets: list[reference.DatasetRecord]) -> list[reference.DatasetRecord]:
    """The newest ICE file of each kind (participating, pending)."""
    newest: dict[str, reference.DatasetRecord] = {}
    for record in datasets:
        if record.dataset != "ice-287g" or record.snapshot_kind is None:
            continue
        current = newest.get(record.snapshot_kind)
        if current is None or (record.snapshot_date, record.fetched_at) >= (
            current.snapshot_date,
            current.fetched_at,
        ):
            newest[record.snapshot_kind] = record
    return [newest[kind] for kind in ("PARTICIPATING", "PENDING") if kind in newest]


async def home_view(conn: AsyncConnection) -> HomeView:
    version = await changes.data_version(conn)
    datasets = await reference.datasets(conn)
    models = await reference.program_models(conn)
    stats = await agreements.agreement_stats(
        conn, [Dim.STATE, Dim.MODEL, Dim.STATUS], agreements.AgreementFilter()
    )
    state_page = await jurisdictions.jurisdiction_page(
        conn, jurisdictions.JurisdictionFilter(kind="STATE"), 100, None
    )
    state_ids = {record.state_code: record.id for record in state_page.items}
    policies = await jurisdictions.effective_policies(conn, list(state_ids.values()))
    series = await timeline.counts_per_list_date(conn)

    paths = geo.state_paths()
    rows = {
        s.usps: StateRow(s.usps, s.name, s.fips, paths.get(s.fips, ""))
        for s in sorted(STATES, key=lambda s: s.name)
    }
    by_status: dict[str, int] = defaultdict(int)
    active_by_model: dict[str, int] = dict.fromkeys((m.code for m in models), 0)
    for key, count in stats:
        state, model, status = str(key[Dim.STATE]), str(key[Dim.MODEL]), str(key[Dim.STATUS])
        by_status[status] += count
        row = rows.get(state)
        if status == "ACTIVE":
            active_by_model[model] = active_by_model.get(model, 0) + count
        if row is None:
            continue
        if status == "ACTIVE":
            row.active_by_model[model] = row.active_by_model.get(model, 0) + count
        elif status == "PENDING":
            row.pending += count
        elif status == "ENDED":
            row.ended += count
        elif status == "RENAMED":
            row.renamed += count
    for code, row in rows.items():
        jurisdiction_id = state_ids.get(code)
        row.policy = policies.get(jurisdiction_id) if jurisdiction_id is not None else None

    chart, chart_days, pending_columns = _chart(series, models)
    files: dict[str, int] = defaultdict(int)
    for record in datasets:
        files[record.dataset] += 1
    return HomeView(
        version=version,
        latest_lists=latest_lists(datasets),
        files_loaded=dict(files),
        models=models,
        states=list(rows.values()),
        by_status=dict(by_status),
        active_by_model=active_by_model,
        chart=chart,
        chart_days=chart_days,
        pending_columns=pending_columns,
        legend=charts.map_legend(),
        sources=await jurisdictions.source_coverage(conn),
        archive=await timeline.archive_start(conn),
    )


def _chart(
    series: list[timeline.ListCount], models: list[reference.ProgramModelRecord]
) -> tuple[charts.LineChart, list[str], list[tuple[str, list[int]]]]:
    """The chart (active by model, totals) and, for its table, pending by model too."""
    # From the first list date on which a participating list exists: before it "0 active"
    # would only mean "no participating list published yet".
    participating = [c.day for c in series if c.status == "ACTIVE"]
    start = min(participating, default=None)
    series = [c for c in series if start is None or c.day >= start]
    days = sorted({c.day for c in series})
    index = {day: i for i, day in enumerate(days)}
    active = [0] * len(days)
    pending = [0] * len(days)
    per_model = {m.code: [0] * len(days) for m in models}
    pending_per_model = {m.code: [0] * len(days) for m in models}
    for c in series:
        i = index[c.day]
        if c.status == "ACTIVE":
            active[i] += c.count
            per_model.setdefault(c.model_code, [0] * len(days))[i] += c.count
        else:
            pending[i] += c.count
            pending_per_model.setdefault(c.model_code, [0] * len(days))[i] += c.count
    lines = [charts.Series("ACTIVE", "Active (all models)", "#000000", active, thick=True)]
    lines += [
        charts.Series(m.code, m.name.removesuffix(" Model"), MODEL_COLOURS.get(m.code, "#555"),
                      per_model[m.code])
        for m in models
    ]  # fmt: skip
    lines.append(charts.Series("PENDING", "Pending (all)", "#B07800", pending, dashed=True))
    pending_columns = [
        (f"Pending: {m.name.removesuffix(' Model')}", pending_per_model[m.code]) for m in models
    ]
    return charts.line_chart(days, lines), [d.isoformat() for d in days], pending_columns
