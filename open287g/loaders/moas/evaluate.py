"""Precision and recall of the extractor against values read by eye (a truth CSV:
`tests/data/moa_truth.csv`). A truth cell `?` is not scored (unreadable to the reader
too); an empty cell means the document prints no such value, so the extractor must
return null there."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from open287g.loaders.moas.fields import Extraction

FIELDS = ("agency_name", "agency_title", "ice_name", "ice_title", "signed_on")


def load_truth(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def predicted(extraction: Extraction) -> dict[str, str | None]:
    a, i = extraction.agency_signatory, extraction.ice_signatory
    return {
        "agency_name": a.name.value,
        "agency_title": a.title.value,
        "agency_date": a.signed_on.value,
        "ice_name": i.name.value,
        "ice_title": i.title.value,
        "ice_date": i.signed_on.value,
        "signed_on": extraction.signed_on.value,
    }


def _person(name: str) -> tuple[str, str]:
    """First and last name, folded: middle initials and suffixes do not count."""
    tokens = [t for t in re.split(r"[\s.,]+", name.lower()) if t]
    tokens = [t for t in tokens if t not in ("jr", "sr", "ii", "iii", "iv")]
    return (tokens[0], tokens[-1]) if tokens else ("", "")


def same(field_name: str, truth: str, value: str) -> bool:
    if field_name.endswith("_name"):
        return _person(truth) == _person(value)
    if field_name.endswith("_title"):
        return re.sub(r"[^a-z]", "", truth.lower()) == re.sub(r"[^a-z]", "", value.lower())
    return truth == value


@dataclass
class Score:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        present = self.true_positive + self.false_negative
        return self.true_positive / present if present else 1.0


def score(
    truth_rows: Iterable[Mapping[str, str]], predictions: Mapping[str, Mapping[str, str | None]]
) -> dict[str, Score]:
    scores = {name: Score() for name in FIELDS}
    for row in truth_rows:
        got = predictions[row["file"]]
        for name in FIELDS:
            truth, value = row[name].strip(), got.get(name)
            if truth == "?":
                continue
            result = scores[name]
            if value is None:
                result.false_negative += bool(truth)
            elif truth and same(name, truth, value):
                result.true_positive += 1
            else:
                result.false_positive += 1
                result.false_negative += bool(truth)
                result.wrong.append(f"{row['file']}: {name} {value!r} (truth {truth!r})")
    return scores


def report(scores: Mapping[str, Score]) -> str:
    return "\n".join(
        f"{name:13} precision {s.precision:6.1%}  recall {s.recall:6.1%}"
        f"  (tp {s.true_positive}, fp {s.false_positive}, fn {s.false_negative})"
        for name, s in scores.items()
    )
