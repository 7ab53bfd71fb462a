"""Precision and recall of the extractor against MOAs read by eye, per field and per kind,
for the development and the test set side by side.

    python -m open287g.loaders.moas.evaluate            (or: make moa-eval)

runs the extractor (`predict`, OCR memoised in `.moa-eval/ocr`) over every labelled file of
both sets and prints the table; `--set dev` measures the development set only (tuning
looks at nothing else), `--dev FILE --test FILE` scores saved predictions (an older
commit's, for a before/after table) and `--wrong` lists the development set's misses.

Scoring (truth cells and matching rules: `truth.py`): per field, a value equal to the
truth is a true positive; a value where the truth is empty, or a different value, is a
false positive (and a different value also a false negative); no value where the truth
has one is a false negative; a truth of `?` is not scored. Precision = tp / (tp + fp),
recall = tp / (tp + fn). "published" counts only values the extractor would publish as
facts (confidence at or above the threshold; candidates count as no value).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from open287g.loaders.moas.truth import (
    SPLIT,
    TRUTH,
    UNKNOWN,
    contacts,
    load_truth,
    same,
    same_person,
)

FIELDS = (
    "agency_name",
    "agency_title",
    "agency_date",
    "ice_name",
    "ice_title",
    "ice_date",
    "signed_on",
    "program_model",
)
POINTS = "points_of_contact"
# Kinds of document (text layer or scan) and of signature block (how the name appears).
KINDS = ("text", "scan", "printed", "stamp", "handwritten")
_BLOCK_FIELDS = ("agency_name", "agency_date", "ice_name", "ice_date", "signed_on")
CACHE = Path(__file__).resolve().parents[3] / ".moa-eval"

Prediction = Mapping[str, Any]  # field -> value (str | None) or {"value", "published", ...}


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

    def add(self, truth: str, value: str | None, field_name: str, where: str) -> None:
        if truth == UNKNOWN:
            return
        if value is None:
            self.false_negative += bool(truth)
            if truth:
                self.wrong.append(f"{where}: {field_name} missed (truth {truth!r})")
        elif truth and same(field_name, truth, value):
            self.true_positive += 1
        else:
            self.false_positive += 1
            self.false_negative += bool(truth)
            self.wrong.append(f"{where}: {field_name} {value!r} (truth {truth!r})")

    def cell(self) -> str:
        if not (self.true_positive + self.false_positive + self.false_negative):
            return f"{'-':>23}"
        return (
            f"{self.precision:6.1%} {self.recall:6.1%}"
            f" {self.true_positive:3}/{self.false_positive}/{self.false_negative:<3}"
        )


def value_of(prediction: Prediction, name: str, published_only: bool) -> str | None:
    got = prediction.get(name)
    if isinstance(got, Mapping):
        if published_only and got.get("published") is False:
            return None
        value = got.get("value")
        return None if value is None else str(value)
    return None if got is None else str(got)


def block_kind(row: Mapping[str, str], name: str) -> str:
    if name.startswith("agency"):
        return row.get("agency_sig_kind", UNKNOWN)
    return row.get("ice_sig_kind", UNKNOWN)


def in_kind(row: Mapping[str, str], name: str, kind: str) -> bool:
    if kind in ("text", "scan"):
        return row.get("kind") == kind
    return name in _BLOCK_FIELDS and block_kind(row, name) == kind


def score(
    rows: Iterable[Mapping[str, str]],
    predictions: Mapping[str, Prediction],
    *,
    kind: str | None = None,
    published_only: bool = False,
    contacts_of: Mapping[str, list[str]] | None = None,
) -> dict[str, Score]:
    """Scores per field (and `points_of_contact` when `contacts_of` gives the lists)."""
    scores = {name: Score() for name in (*FIELDS, POINTS)}
    for row in rows:
        got = predictions.get(row["file"])
        if got is None:
            continue
        for name in FIELDS:
            if name not in row or (kind is not None and not in_kind(row, name, kind)):
                continue
            scores[name].add(row[name], value_of(got, name, published_only), name, row["file"])
        labelled = contacts_of is not None and row.get(POINTS, UNKNOWN) != UNKNOWN
        if labelled and contacts_of is not None and (kind is None or in_kind(row, POINTS, kind)):
            _score_contacts(scores[POINTS], row, contacts_of.get(row["file"], []))
    return scores


def _score_contacts(result: Score, row: Mapping[str, str], found: list[str]) -> None:
    truth = contacts(row[POINTS])
    matched = [any(same_person(t, f) for f in found) for t in truth]
    result.true_positive += sum(matched)
    result.false_negative += len(matched) - sum(matched)
    for value in found:
        if not any(same_person(t, value) for t in truth):
            result.false_positive += 1
            result.wrong.append(f"{row['file']}: point of contact {value!r}")
    for t, hit in zip(truth, matched, strict=True):
        if not hit:
            result.wrong.append(f"{row['file']}: point of contact {t!r} missed")


def report(scores: Mapping[str, Score]) -> str:
    return "\n".join(
        f"{name:17} precision {s.precision:6.1%}  recall {s.recall:6.1%}"
        f"  (tp {s.true_positive}, fp {s.false_positive}, fn {s.false_negative})"
        for name, s in scores.items()
    )


def _load(path: Path | None) -> tuple[dict[str, Prediction], dict[str, list[str]]]:
    if path is None or not path.is_file():
        return {}, {}
    data: dict[str, Any] = json.loads(path.read_text())
    fields = {name: item.get("fields", {}) for name, item in data.items()}
    points = {
        name: [
            str(c["value"])
            for c in item.get(POINTS, [])
            if c.get("value") and c.get("published", True) is not False
        ]
        for name, item in data.items()
        if "error" not in item
    }
    return fields, points


def table(
    rows: list[dict[str, str]],
    sets: Mapping[str, tuple[dict[str, Prediction], dict[str, list[str]]]],
    *,
    published_only: bool = False,
) -> str:
    names = list(sets)
    head = f"{'':24}" + "".join(
        f"| {s} ({sum(r['set'] == s and r['file'] in sets[s][0] for r in rows)} files)"
        f"{'':<8}" + f"{'':4}"
        for s in names
    )
    lines = [head, f"{'':24}" + "| precision recall tp/fp/fn " * len(names)]
    for kind in (None, *KINDS):
        per_set = {
            s: score(
                [r for r in rows if r["set"] == s],
                sets[s][0],
                kind=kind,
                published_only=published_only,
                contacts_of=sets[s][1],
            )
            for s in names
        }
        lines.append(f"-- {kind or 'all documents'}")
        for name in (*FIELDS, POINTS):
            cells = [per_set[s][name] for s in names]
            if all(c.cell().strip() == "-" for c in cells):
                continue
            lines.append(f"  {name:22}" + "".join(f"| {c.cell()} " for c in cells))
    return "\n".join(lines)


def thresholds(
    rows: list[dict[str, str]], predictions: Mapping[str, Prediction], name: str = "agency_name"
) -> str:
    """Precision and recall of `name` if only values at or above each confidence were
    published: how `fields.PUBLISH_CONFIDENCE` is chosen (on the development set)."""
    levels = sorted(
        {
            round(float(p[name].get("confidence") or 0.0), 3)
            for p in predictions.values()
            if isinstance(p.get(name), Mapping) and p[name].get("value") is not None
        }
    )
    lines = [f"{name}: threshold precision recall tp/fp/fn"]
    for level in [0.0, *levels]:
        gated = {
            file: {
                **p,
                name: {**p[name], "published": (p[name].get("confidence") or 0.0) >= level},
            }
            for file, p in predictions.items()
            if isinstance(p.get(name), Mapping)
        }
        result = score(rows, gated, published_only=True)[name]
        lines.append(f"  {level:5.3f} {result.cell()}")
    return "\n".join(lines)


def _predict(which: str, out: Path, jobs: int) -> None:
    from open287g.loaders.moas import predict

    args = ["--split", str(SPLIT), "--set", which, "--out", str(out)]
    predict.main([*args, "--ocr-cache", str(CACHE / "ocr"), "--jobs", str(jobs)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="all", choices=("dev", "test", "all"))
    parser.add_argument("--dev", type=Path, help="saved predictions of the dev set")
    parser.add_argument("--test", type=Path, help="saved predictions of the test set")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--wrong", action="store_true", help="list the dev set's misses")
    parser.add_argument(
        "--thresholds", action="store_true", help="dev agency names by publication threshold"
    )
    parser.add_argument("--truth", type=Path, default=TRUTH)
    args = parser.parse_args(argv)
    wanted = ("dev", "test") if args.set == "all" else (args.set,)
    saved = {"dev": args.dev, "test": args.test}
    sets = {}
    for which in wanted:
        path = saved[which]
        if path is None:
            CACHE.mkdir(exist_ok=True)
            path = CACHE / f"{which}.json"
            _predict(which, path, args.jobs)
        sets[which] = _load(path)
    rows = load_truth(args.truth)
    print("every value the extractor returns:")
    print(table(rows, sets))
    print("\nvalues published as facts (candidates below the confidence threshold withheld):")
    print(table(rows, sets, published_only=True))
    if args.thresholds and "dev" in sets:
        print(thresholds([r for r in rows if r["set"] == "dev"], sets["dev"][0]))
    if args.wrong and "dev" in sets:
        dev = [r for r in rows if r["set"] == "dev"]
        for result in score(dev, sets["dev"][0], contacts_of=sets["dev"][1]).values():
            for line in result.wrong:
                print("  dev:", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
