"""Load the officials CSV (README "Loading officials"): who is in charge of an agency.

Columns: `state`, `agency`, `name` (required); `title`, `term_start`, `term_end`
(YYYY-MM-DD), `source_url` (optional).
"""

from __future__ import annotations

from open287g.db.ingest.officials import OfficialRow, merge_officials, remove_officials
from open287g.loaders.csv_documents import CsvSource, ParsedCsv, csv_records, parse_date
from open287g.text import name_key

DATASET = "officials"
REQUIRED = ("state", "agency", "name")


def parse_officials_csv(label: str, data: bytes) -> ParsedCsv[OfficialRow]:
    parsed: ParsedCsv[OfficialRow] = ParsedCsv()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        state = parsed.state(number, values["state"])
        if state is None:
            continue
        agency, name = values["agency"], values["name"]
        if not agency or not name:
            parsed.reject(number, "agency" if not agency else "name", "required value missing")
            continue
        try:
            term_start = parse_date(values.get("term_start"))
            term_end = parse_date(values.get("term_end"))
        except ValueError:
            parsed.reject(
                number,
                "term_start/term_end",
                "dates must be YYYY-MM-DD",
                f"{values.get('term_start')} / {values.get('term_end')}",
            )
            continue
        if term_start and term_end and term_end < term_start:
            parsed.reject(number, "term_end", "term ends before it starts", values["term_end"])
            continue
        parsed.rows.append(
            OfficialRow(
                row_number=number,
                state_code=state.usps,
                agency=agency,
                agency_key=name_key(agency),
                name=name,
                official_key=f"{name_key(name)}|{term_start or ''}",
                title=values.get("title"),
                term_start=term_start,
                term_end=term_end,
                source_url=values.get("source_url"),
            )
        )
    return parsed


OFFICIALS = CsvSource(
    dataset=DATASET,
    parse=parse_officials_csv,
    merge=merge_officials,
    help="officials in charge of agencies (CSV, format in docs/data.md)",
    description="Load an officials CSV (file or URL), matched to agencies by state and "
    "agency name; unmatched rows are reported as rejected.",
    remove=remove_officials,
)
