"""Run the extractor over labelled MOAs and keep what it says, for `evaluate` to score.

`python -m open287g.loaders.moas.predict --split tests/data/moa_split.csv --set dev
--out predictions.json` reads each PDF (text layer, OCR for scans) and writes, per file and
per scored field, the value with its confidence and method. The extractor's own entry
points are used as they are (`read_pdf`, `extract`), so the same runner measures an older
commit too: copy this file into that commit's package and run it there.

OCR is memoised on disk (`--ocr-cache`): Tesseract's answer for one page image and page
segmentation mode, and the line engine's raw lines for one image, are pure functions of
those bytes, so a second run over the same PDFs (another extractor version, the same
reading) does not OCR 500 pages again; what is made of the engines' answers (words,
spaces put back) is never cached, nor are rendering and the text layer.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from open287g.loaders.moas import lines as lines_module
from open287g.loaders.moas import read as read_module
from open287g.loaders.moas.extract import extract
from open287g.loaders.moas.read import ReadLimits, read_pdf

MOA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "moa"
MODELS = {
    "JAIL_ENFORCEMENT": "JEM",
    "TASK_FORCE": "TFM",
    "WARRANT_SERVICE_OFFICER": "WSO",
    "TRIBAL_TASK_FORCE": "TTF",
}


def _cached(recognize: Callable[..., Any], folder: Path) -> Callable[..., Any]:
    """Tesseract's reading of a page image in one segmentation mode."""

    def wrapper(image: bytes, points_per_pixel: float, *, psm: int, timeout: float) -> Any:
        key = hashlib.sha256(image + f"|{points_per_pixel}|{psm}".encode())
        path = folder / f"{key.hexdigest()}.pickle"
        if path.is_file():
            return pickle.loads(path.read_bytes())  # noqa: S301 (our own cache)
        page = recognize(image, points_per_pixel, psm=psm, timeout=timeout)
        path.write_bytes(pickle.dumps(page))
        return page

    return wrapper


def _cached_lines(engine_lines: Callable[..., Any], folder: Path) -> Callable[..., Any]:
    """The line engine's raw lines for an image (what follows from them is not cached)."""

    def wrapper(image: bytes, *, timeout: float) -> Any:
        path = folder / f"{hashlib.sha256(image + b'|lines').hexdigest()}.json"
        if path.is_file():
            return json.loads(path.read_text())
        lines = engine_lines(image, timeout=timeout)
        path.write_text(json.dumps(lines))
        return lines

    return wrapper


def _value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"value": None}
    out = {
        "value": getattr(value, "value", None),
        "confidence": getattr(value, "confidence", None),
        "method": getattr(value, "method", None),
        "page": getattr(value, "page", None),
        "reason": getattr(value, "reason", None),
    }
    for extra in ("published", "box"):
        if hasattr(value, extra):
            out[extra] = getattr(value, extra)
    return out


def predict_one(path: Path, ocr_cache: Path | None) -> dict[str, Any]:
    if ocr_cache is not None:
        ocr_cache.mkdir(parents=True, exist_ok=True)
        for module, name, cached in (
            (read_module, "recognize", _cached),
            (lines_module, "engine_lines", _cached_lines),
        ):
            engine = getattr(module, name)
            if not getattr(engine, "_cached", False):
                wrapped = cached(engine, ocr_cache)
                setattr(wrapped, "_cached", True)  # noqa: B010
                setattr(module, name, wrapped)
    started = time.monotonic()
    read = read_pdf(path.read_bytes(), ReadLimits())
    extraction = extract(read.pages)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "status": read.status,
        "fields": predicted(extraction),
        "points_of_contact": [_value(c) for c in extraction.points_of_contact],
    }


def predicted(extraction: Any) -> dict[str, dict[str, Any]]:
    """The scored fields of an extraction, each with its evidence."""
    a, i = extraction.agency_signatory, extraction.ice_signatory
    model = _value(extraction.program_model)
    model["value"] = MODELS.get(model["value"] or "", model["value"])
    return {
        "agency_name": _value(a.name),
        "agency_title": _value(a.title),
        "agency_date": _value(a.signed_on),
        "ice_name": _value(i.name),
        "ice_title": _value(i.title),
        "ice_date": _value(i.signed_on),
        "signed_on": _value(extraction.signed_on),
        "program_model": model,
    }


def _job(args: tuple[str, str | None]) -> tuple[str, dict[str, Any]]:
    path, cache = args
    try:
        return Path(path).name, predict_one(Path(path), Path(cache) if cache else None)
    except Exception as exc:  # one file's failure is its result
        return Path(path).name, {"error": f"{type(exc).__name__}: {exc}", "fields": {}}


def split_files(split: Path, which: str, text_layer: str | None = None) -> list[str]:
    with split.open(newline="", encoding="utf-8") as handle:
        return [
            r["file"]
            for r in csv.DictReader(handle)
            if which in ("all", r["set"]) and text_layer in (None, r["text_layer"])
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", type=Path, required=True)
    parser.add_argument("--set", default="dev", choices=("dev", "test", "all"))
    parser.add_argument("--folder", type=Path, default=MOA_DIR)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ocr-cache", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="these file names only")
    parser.add_argument("--text-layer", choices=("yes", "no"), help="only files with/without")
    args = parser.parse_args(argv)
    names = split_files(args.split, args.set, args.text_layer)
    if args.only is not None:
        names = [n for n in names if n in set(args.only)]
    cache = str(args.ocr_cache) if args.ocr_cache else None
    results: dict[str, Any] = {}
    if args.out.is_file() and (args.only is not None or args.text_layer):
        results = json.loads(args.out.read_text())
    work = [(str(args.folder / n), cache) for n in names]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for done, (name, result) in enumerate(pool.map(_job, work), 1):
            results[name] = result
            print(f"{done}/{len(work)} {name} {result.get('seconds', '-')} s", file=sys.stderr)
            args.out.write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
