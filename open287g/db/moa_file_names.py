"""Does an MOA link's file name name the agency whose row carries it?

ICE names MOA files after the agency (`WinklerCoSheriffsOfficeTX_JEM_MOA_03.21.2025.pdf`,
`287gWSO_BakerCoFl2019-10-15.pdf`), and has put one agency's link on another's row
(Mercer County SO, ND, carries Winkler County, TX's MOA). This module reads a file name
the way a person would and compares it with the agency name. Pure (no database), so the
rule is tested on its own; `db/queries/quality.py` runs it over every link ICE published.

The rule (README "Data quality"):

1. **Fold the file name.** Last path segment, URL-decoded, extension dropped; split at
   punctuation and at case changes (`WinklerCoSheriffsOfficeTX` → Winkler Co Sheriffs
   Office TX; `ArcadiaPDFL` → Arcadia PD FL); drop digits (dates), `287g`, `MOA`,
   `508`, model codes (`JEM`, `TFM`, `WSO`, …) and words for amendments.
2. **State.** The last word is the file's state when it is a USPS code written in capitals
   (`TX`), or in title case (`Fl`, `Az`) unless it is `Co` right after a place name
   (`Co` there means County; `TellerCoCo` is Teller County, CO).
3. **Cores.** Abbreviations are expanded (`Co` County, `Dept` Department, `PD` Police
   Department, `SO` Sheriff's Office, `Enf` Enforcement, …), then both names lose the words
   that say what kind of body it is (County, Police, Department, Sheriff, Office, Division,
   Law Enforcement, `and`, `of`, …): what is left names the place or the body
   (`winkler`; `mercer`).
4. **Match.** A file word matches an agency word when one starts with the other (at
   least three letters: `Ariz` / `Arizona`, `Environ` / `Environmental`) or their
   rapidfuzz `ratio` is at least `WORD_MATCH` (80: ICE's typos `Yvapai` / `Yavapai` 92,
   `Bellaire` / `Belleair` 88 pass; `Edgewater` / `Edgewood` 59 does not). Words glued
   differently (`DeKalb` / `De Kalb`) are caught by comparing the cores without spaces
   the same way. The file names **the agency** when at least half of its core words
   match (`FloridaDeptEnvironProtect…` on the Fish and Wildlife Commission's row
   matches only `Florida`: 1 of 3).

A link is flagged when the file names another state, or when both cores are non-empty
and the file does not name the agency. A file whose name has no core words (`287gWSO_
DeptOfCorrectionsAK…` on the Alaska Department of Corrections' row) cannot be checked and is
never flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from rapidfuzz import fuzz

from open287g.db.reference_data import STATES

WORD_MATCH = 80.0
MIN_SHARE = 0.5
_USPS = frozenset(s.usps for s in STATES)
_NOISE = frozenset(
    {
        *("g", "moa", "pdf", "jem", "tfm", "wso", "ttf", "tf", "ttfm", "jemtfm", "jemwso"),
        *("amendment", "amended", "addendum", "signed", "final", "rev", "revised", "copy"),
        *("between", "ice"),
    }
)
_EXPAND = {
    "co": ("county",),
    "cty": ("county",),
    "dept": ("department",),
    "pd": ("police", "department"),
    "so": ("sheriff", "office"),
    "sd": ("sheriff", "department"),
    "doc": ("department", "corrections"),
    "div": ("division",),
    "enf": ("enforcement",),
    "sheriffs": ("sheriff",),
    "ofc": ("office",),
    "corr": ("corrections",),
    "det": ("detention",),
    "cntr": ("center",),
    "hwy": ("highway",),
    "nat": ("national",),
    "ag": ("agriculture",),
    "ft": ("fort",),
    "st": ("saint",),
    "mt": ("mount",),
    "commish": ("commission",),
}
_GENERIC = frozenset(
    {
        *("city", "town", "township", "village", "of", "the", "and", "county", "parish"),
        *("borough", "sheriff", "sheriffs", "office", "police", "department", "dept"),
        *("constable", "constables", "marshal", "marshals", "corrections", "correctional"),
        *("facility", "detention", "center", "jail", "board", "trustees", "commissioners"),
        *("division", "law", "enforcement", "bureau", "agency", "state", "public", "safety"),
        *("services", "service", "unit", "district", "attorney", "commission"),
        *("sherrif", "sherrifs", "sherriff", "sherriffs"),  # ICE's own spellings
    }
)
# Split at case changes: `SheriffsOfficeTX` → Sheriffs Office TX, `ArizDOC` → Ariz DOC.
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_GLUED_STATE = re.compile(r"^(PD|SO|SD|DOC|CO)([A-Z]{2})$")


@dataclass(frozen=True)
class FileName:
    """What a file name says: its state code (if it gives one), its core words and,
    apart, the words of 2-5 capitals (`DBPR`, `NHSPD`: initials, not names)."""

    state: str | None
    core: tuple[str, ...]
    acronyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    names_other_state: bool
    names_other_agency: bool
    file_state: str | None
    share: float  # of the file's core words that match the agency's (0-1)
    file_core: tuple[str, ...]
    agency_core: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.names_other_state or self.names_other_agency


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _raw_words(stem: str) -> list[str]:
    words: list[str] = []
    for piece in re.split(r"[^A-Za-z0-9]+", _ascii(stem)):
        for word in _WORDS.findall(piece):
            glued = _GLUED_STATE.match(word)
            if glued and glued.group(2) in _USPS:
                words += [glued.group(1), glued.group(2)]
            else:
                words.append(word)
    return [w for w in words if not w.isdigit() and w.lower() not in _NOISE]


def _state_of(words: list[str]) -> str | None:
    if not words:
        return None
    last = words[-1]
    if len(last) != 2 or last.upper() not in _USPS:
        return None
    if last.isupper():
        return last
    if last.lower() == "co":
        # `BakerCo` is Baker County; only `…CoCo` (County, Colorado) reads as a state.
        before = words[-2].lower() if len(words) > 1 else ""
        return "CO" if before == "co" else None
    return last.upper() if last[0].isupper() else None


def _core(words: list[str]) -> tuple[str, ...]:
    expanded: list[str] = []
    for word in words:
        expanded += _EXPAND.get(word.lower(), (word.lower(),))
    return tuple(w for w in expanded if w not in _GENERIC)


def read_file_name(url: str) -> FileName:
    """The state, core words and acronyms a MOA link's file name gives."""
    segment = unquote(url.rsplit("/", 1)[-1].split("?", 1)[0])
    stem = segment.rsplit(".", 1)[0] if "." in segment else segment
    words = _raw_words(stem)
    state = _state_of(words)
    if state is not None:
        words = words[:-1]
    acronyms = tuple(
        w for w in words if 2 <= len(w) <= 5 and w.isupper() and w.lower() not in _EXPAND
    )
    return FileName(state, _core([w for w in words if w not in acronyms]), acronyms)


def _agency_words(name: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", re.sub(r"['’‘`]", "", _ascii(name)).replace("&", " and "))


def agency_core(name: str) -> tuple[str, ...]:
    return _core(_agency_words(name))


def _is_initials(acronym: str, name: str, state_code: str) -> bool:
    """`DOJ` of Montana Department of Justice, `VADOC` (a state code, then initials)."""
    letters = acronym
    for code in (state_code, acronym[:2]):
        if letters.startswith(code) and len(letters) > len(code):
            letters = letters[len(code) :]
            break
    if letters == state_code:
        return True
    initials = iter(w[0].upper() for w in _agency_words(name))
    return all(letter in initials for letter in letters)  # a subsequence, in order


def _word_matches(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 3 and longer.startswith(shorter):
        return True
    return fuzz.ratio(a, b) >= WORD_MATCH


def _matched(words: tuple[str, ...], mine: tuple[str, ...]) -> int:
    """How many of `words` match a word of `mine`, two neighbours glued counting for both
    (`De Soto` / `DeSoto`, `Zephyr Hills` / `Zephyrhills`)."""
    targets = {*mine, *("".join(mine[i : i + 2]) for i in range(len(mine) - 1))}
    hit = [any(_word_matches(word, m) for m in targets) for word in words]
    for i in range(len(words) - 1):
        glued = words[i] + words[i + 1]
        if not (hit[i] and hit[i + 1]) and any(fuzz.ratio(glued, m) >= WORD_MATCH for m in targets):
            hit[i] = hit[i + 1] = True
    return sum(hit)


def judge(url: str, agency_name: str, state_code: str) -> Verdict:
    """Whether the file `url` names the agency `agency_name` of `state_code`."""
    read = read_file_name(url)
    mine = agency_core(agency_name)
    other_state = read.state is not None and read.state != state_code
    if not read.core or not mine:
        return Verdict(other_state, False, read.state, 1.0, read.core, mine)
    matched = _matched(read.core, mine)
    # Initials cannot be read as a name: they count when they are the agency's, and are
    # otherwise left out (never evidence against it).
    initials = sum(1 for a in read.acronyms if _is_initials(a, agency_name, state_code))
    share = (matched + initials) / (len(read.core) + initials)
    if share < MIN_SHARE and _word_matches("".join(read.core), "".join(mine)):
        share = 1.0  # the same words, glued differently throughout
    return Verdict(other_state, share < MIN_SHARE, read.state, round(share, 2), read.core, mine)
