"""The truth file (`tests/data/moa_truth.csv`: MOAs read by eye, with their dev/test set,
reader and method) and the one place that says when an extracted value matches it.

Cells: `?` = the reader saw a value but could not read it, or the field was not labelled
for that file (not scored: neither a hit nor a miss, and a confident extraction there is
not counted wrong); empty = the document shows no such value (any extraction is a false
positive). `python -m open287g.loaders.moas.truth LABELS.csv...` folds labellers' CSVs
(format: /work/labels/LABELING.md) into the truth file, keyed by file name.

Matching rules (`same`):
- names: case, punctuation and spacing folded; suffixes (Jr, Sr, II, III, IV) and a title
  written before the name ("Sheriff Billy Woods") dropped; then the first and the last
  word must agree, so middle names and initials do not count ("Todd Lyons" = "Todd M.
  Lyons", "C. M. Cronen" = "C.M. Cronen"); a lone initial first word matches a first name
  with that initial only if both are initials;
- titles: letters only, case folded; equal before their first comma ("Sheriff, Bay
  County" = "Sheriff"), or one begins with the other when the shorter has at least 6
  letters (a title whose second line was or was not read: "Acting Executive Associate
  Director" = "Acting Executive Associate Director Enforcement and Removal Operations",
  "Director" = "Director or designee"; but "Chief" is not "Chief of Police");
- dates: ISO dates equal; program model: the code (JEM, TFM, WSO, TTF) equal;
- points of contact: each name of the list is matched like a signatory's name.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Iterable
from pathlib import Path

TRUTH = Path(__file__).resolve().parents[3] / "tests" / "data" / "moa_truth.csv"
SPLIT = TRUTH.with_name("moa_split.csv")
COLUMNS = (
    "file",
    "set",
    "text_layer",
    "kind",
    "agency_sig_kind",
    "agency_name",
    "agency_title",
    "agency_date",
    "ice_sig_kind",
    "ice_name",
    "ice_title",
    "ice_date",
    "signed_on",
    "program_model",
    "points_of_contact",
    "reader",
    "method",
    "notes",
)
UNKNOWN = "?"
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_TITLE_WORDS = {"sheriff", "chief", "director", "major", "colonel", "captain", "undersheriff"}


def load_truth(path: Path = TRUTH) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def person(name: str) -> tuple[str, str]:
    """(first, last) of a name, folded (see the module's rules)."""
    tokens = [t for t in re.split(r"[\s.,]+", name.lower()) if t]
    tokens = [t for t in tokens if t not in _SUFFIXES]
    while len(tokens) > 2 and tokens[0] in _TITLE_WORDS:
        tokens = tokens[1:]
    return (tokens[0], tokens[-1]) if tokens else ("", "")


def same_person(truth: str, value: str) -> bool:
    return person(truth) == person(value) and person(truth) != ("", "")


def title_core(title: str) -> str:
    return re.sub(r"[^a-z]", "", title.split(",")[0].lower())


def same(field: str, truth: str, value: str) -> bool:
    """Whether an extracted `value` is the truth's value for `field`."""
    if field.endswith("_name"):
        return same_person(truth, value)
    if field.endswith("_title"):
        if title_core(truth) == title_core(value) != "":
            return True
        a, b = sorted((re.sub(r"[^a-z]", "", t.lower()) for t in (truth, value)), key=len)
        return len(a) >= 6 and b.startswith(a)
    return truth.strip() == value.strip()


def contacts(cell: str) -> list[str]:
    return [c.strip() for c in cell.split(";") if c.strip()]


def fold(labels: Iterable[Path], truth: Path = TRUTH, split: Path = SPLIT) -> int:
    """Add or replace the rows of labelled files in the truth file; returns rows written."""
    sets = {}
    with split.open(newline="", encoding="utf-8") as handle:
        sets = {r["file"]: r["set"] for r in csv.DictReader(handle)}
    rows = {r["file"]: r for r in load_truth(truth)} if truth.is_file() else {}
    for path in labels:
        for label in load_truth(path):
            name = label.get("file", "")
            if name not in sets:
                continue  # a file outside the split is not part of the evaluation
            row = {c: label.get(c, "") for c in COLUMNS}
            row["set"] = sets[name]
            row["kind"] = "text" if label.get("text_layer") == "yes" else "scan"
            rows[name] = row
    order = list(sets)
    with truth.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for name in sorted(rows, key=lambda n: (order.index(n) if n in order else 10**6, n)):
            writer.writerow({c: rows[name].get(c, "") for c in COLUMNS})
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fold labellers' CSVs into the truth file.")
    parser.add_argument("labels", nargs="+", type=Path)
    parser.add_argument("--truth", type=Path, default=TRUTH)
    args = parser.parse_args(argv)
    print(f"{fold(args.labels, args.truth)} rows in {args.truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
