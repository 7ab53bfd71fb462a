"""`open287g load lineage-overrides SOURCE`: a small reviewed CSV that corrects the rename
matcher (README "Lineage"), because a matcher will sometimes be wrong.

Columns: `action` (`link` or `unlink`), `state`, `model` (code such as `TASK_FORCE`, or
ICE's label `Task Force Model`), `predecessor`, `successor` (agency names as on ICE's
lists; case, spacing, punctuation and `&`/`and` do not matter), optional
`successor_state` (when ICE moved the agency to another state), `successor_model` (a
switch to another program model) and `note` (why).

The file is the whole reviewed list: loading it replaces the overrides loaded before.
Lineage and statuses are recomputed at once, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.ice287g import recompute_agreements
from open287g.db.ingest.provenance import IssueRecord, LoadCounts, lock_dataset, record_updated
from open287g.db.models.enums import ProgramModelCode
from open287g.loaders.csv_documents import CsvSource, ParsedCsv, counted, csv_records, rejected
from open287g.text import name_key

DATASET = "lineage-overrides"
REQUIRED = ("action", "state", "model", "predecessor", "successor")
ICE_DATASET = "ice-287g"


@dataclass(frozen=True)
class OverrideRow:
    row_number: int
    action: str
    model: ProgramModelCode
    state_code: str
    predecessor: str
    successor_state: str
    successor: str
    note: str | None
    successor_model: ProgramModelCode | None = None


def parse_model(value: str | None) -> ProgramModelCode | None:
    key = name_key(value or "").replace(" ", "_").removesuffix("_MODEL")
    return ProgramModelCode.__members__.get(key)


def parse_overrides_csv(label: str, data: bytes) -> ParsedCsv[OverrideRow]:
    parsed: ParsedCsv[OverrideRow] = ParsedCsv()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        action = (values["action"] or "").lower()
        if action not in ("link", "unlink"):
            parsed.reject(number, "action", "action must be link or unlink", values["action"])
            continue
        model = parse_model(values["model"])
        if model is None:
            parsed.reject(number, "model", "unknown program model", values["model"])
            continue
        successor_model = model
        if values.get("successor_model"):
            switched = parse_model(values["successor_model"])
            if switched is None:
                parsed.reject(
                    number, "successor_model", "unknown program model", values["successor_model"]
                )
                continue
            successor_model = switched
        state = parsed.state(number, values["state"])
        if state is None:
            continue
        successor_state = state
        if values.get("successor_state"):
            other = parsed.state(number, values["successor_state"])
            if other is None:
                continue
            successor_state = other
        predecessor, successor = values["predecessor"], values["successor"]
        if not predecessor or not successor:
            column = "predecessor" if not predecessor else "successor"
            parsed.reject(number, column, "required value missing")
            continue
        parsed.rows.append(
            OverrideRow(
                number, action, model, state.usps, predecessor, successor_state.usps,
                successor, values.get("note"), successor_model,
            )
        )  # fmt: skip
    return parsed


_AGREEMENT = """
SELECT g.id FROM agreements g JOIN agencies a ON a.id = g.agency_id
WHERE a.state_code = :state AND a.name_key = :key
  AND g.model_code = CAST(:model AS program_model_code)
"""


async def merge_overrides(
    conn: AsyncConnection, run_id: int, rows: Sequence[OverrideRow], issues: list[IssueRecord]
) -> LoadCounts:
    """Replace the stored overrides, recompute lineage; rows naming no agreement rejected."""
    await lock_dataset(conn, ICE_DATASET)  # held already (`also_lock`): ICE loads recompute these
    await conn.execute(text("DELETE FROM lineage_overrides"))
    counts = LoadCounts()
    for row in rows:
        ids: list[int] = []
        for column, state, agency, model in (
            ("predecessor", row.state_code, row.predecessor, row.model),
            ("successor", row.successor_state, row.successor, row.successor_model or row.model),
        ):
            found = (
                await conn.execute(
                    text(_AGREEMENT),
                    {"state": state, "key": name_key(agency), "model": model.value},
                )
            ).scalar_one_or_none()
            if found is None:
                reason = f"no {model.value} agreement of that agency in {state}"
                issues.append(rejected(row.row_number, column, reason, agency))
                break
            ids.append(int(found))
        if len(ids) < 2:
            continue
        if ids[0] == ids[1]:
            reason = "an agreement cannot succeed itself"
            issues.append(rejected(row.row_number, "successor", reason, row.successor))
            continue
        await conn.execute(
            text(
                "INSERT INTO lineage_overrides (load_run_id, row_number, action,"
                " predecessor_id, successor_id, note) VALUES (:run, :row, :action, :p, :s, :note)"
            ),
            {
                "run": run_id,
                "row": row.row_number,
                "action": row.action,
                "p": ids[0],
                "s": ids[1],
                "note": row.note,
            },
        )
        counts.inserted += 1
    changed = [row.id for row in await recompute_agreements(conn)]
    return await record_updated(conn, run_id, counts, "agreement", changed)


LINEAGE_OVERRIDES = CsvSource(
    dataset=DATASET,
    parse=parse_overrides_csv,
    merge=merge_overrides,
    also_lock=(ICE_DATASET,),  # before the change-sequence lock, as an ICE load does
    help="reviewed rename links: link/unlink pairs of agreements (CSV, format in docs/data.md)",
    description="Load a lineage-overrides CSV (file or URL). It replaces the overrides "
    "loaded before; lineage and statuses are recomputed at once.",
    summary=counted("overrides applied", "agreements changed"),
)
