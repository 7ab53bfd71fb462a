"""Value normalization shared by the loaders: whitespace, states, names, dates, links.

Each function returns the clean value or None; callers decide whether a None is a repair
to report or a row to reject, so the reporting policy lives in one place per loader.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from functools import lru_cache
from typing import Final
from urllib.parse import parse_qs, urlsplit

from open287g.db.reference_data import STATES, State
from open287g.text import name_key

_SPACES = re.compile(r"\s+")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TEXT_DATE_FORMATS: Final = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m/%d/%y", "%B %d, %Y")
_MISSING: Final = frozenset({"", "#N/A", "N/A", "#NA", "NA", "NONE", "NULL", "-", "--"})

_STATES_BY_KEY: Final[dict[str, State]] = {
    **{state.name.upper(): state for state in STATES},
    **{state.usps: state for state in STATES},
}
_STATE_NAMES: Final = [state.name.upper() for state in STATES]


def clean_text(value: object) -> str | None:
    """Trim and fold all whitespace (non-breaking spaces included); blank → None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def is_missing(value: str | None) -> bool:
    """Placeholders spreadsheets use for "no value" (`#N/A`, `N/A`, blank)."""
    return value is None or value.upper() in _MISSING


def lookup_state(value: str | None) -> tuple[State | None, bool]:
    """(state, was_guessed): exact name or USPS code in any case, else a close misspelling.

    A guess needs a similarity of at least 0.85 to one state name and no close runner-up,
    so `UTAHJ` is Utah but nothing ambiguous is ever assigned.
    """
    if value is None:
        return None, False
    key = name_key(value)
    if key in _STATES_BY_KEY:
        return _STATES_BY_KEY[key], False
    matches = difflib.get_close_matches(key, _names_near_in_length(len(key)), n=2, cutoff=0.85)
    if len(matches) == 1:
        return _STATES_BY_KEY[matches[0]], True
    return None, False


@lru_cache(maxsize=64)
def _names_near_in_length(length: int) -> list[str]:
    """The state names a key of `length` characters can match at 0.85: difflib's own
    length bound, applied once per length instead of per name and row (a sheet of
    100,000 unknown states spent most of its time there)."""
    return [n for n in _STATE_NAMES if 2 * min(length, len(n)) / (length + len(n)) >= 0.85]


def parse_date(value: object) -> tuple[dt.date | None, str | None]:
    """(date, raw text). A real date or an Excel serial gives (date, None); text that reads
    as exactly one date gives (date, text); anything else gives (None, text)."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = int(value)
        if 20000 < serial < 80000:  # 1954 … 2119: anything else is not a plausible date
            return _EXCEL_EPOCH + dt.timedelta(days=serial), None
        return None, str(value)
    text = clean_text(value)
    if text is None or is_missing(text):
        return None, None
    for fmt in _TEXT_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date(), text
        except ValueError:
            continue
    return None, text


_SAFELINK_HOST = re.compile(r"(^|\.)safelinks\.protection\.outlook\.com$", re.IGNORECASE)


def unwrap_link(target: str | None) -> str | None:
    """The real address behind a link: Outlook safelinks carry it in their `url=` query."""
    target = clean_text(target)
    if target is None:
        return None
    parts = urlsplit(target)
    if parts.hostname and _SAFELINK_HOST.search(parts.hostname):
        inner = parse_qs(parts.query).get("url")
        if not inner:
            return None
        return unwrap_link(inner[0])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return target


def is_ice_gov(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "ice.gov" or host.endswith(".ice.gov")
