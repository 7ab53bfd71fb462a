"""The lineage matcher's rules at their edges (db/lineage_match.py, pure): each threshold at
exactly its value and one step past it, the tie-breaks between two successors, reviewed
links against forbidden pairs, and the words the name matcher ignores. `make mutate`
measures how many of the module's mutants these (and the generated-list tests) kill."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.db.lineage_match import (
    _GENERIC,
    ARRIVAL_GAP_DAYS,
    NAME_THRESHOLD,
    RELIST_GAP_DAYS,
    URL_NAME_FLOOR,
    Candidate,
    Link,
    LinkKind,
    Suspect,
    body_kinds,
    core,
    fold,
    name_score,
    propose,
    resolve,
    state_suspects,
)

DAY0 = dt.date(2025, 5, 1)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(n)


def cand(
    id_: int,
    name: str,
    first: int,
    last: int,
    *,
    state: str = "FL",
    model: str = "TASK_FORCE",
    current: bool = False,
    urls: tuple[str, ...] = (),
    seen: tuple[int, ...] = (),
    signed: tuple[int, ...] = (),
) -> Candidate:
    return Candidate(
        id_, state, model, name, day(first), day(last), current, frozenset(urls),
        tuple(day(n) for n in seen), frozenset(day(n) for n in signed),
    )  # fmt: skip


def pairs(links: list[Link]) -> set[tuple[int, int]]:
    return {(link.predecessor_id, link.successor_id) for link in links}


# --- names -------------------------------------------------------------------------------


def test_fold_drops_accents_quotes_and_punctuation() -> None:
    assert fold("  Cañon   City's “Police” Dept. ") == "CANON CITYS POLICE DEPT"
    assert fold('Sheriff’s ‘Office’ `x` "y"') == "SHERIFFS OFFICE X Y"
    assert fold("Smith & Wesson/Co-op") == "SMITH AND WESSON CO OP"
    assert fold("école") == "ECOLE"


@pytest.mark.parametrize("word", sorted(_GENERIC))
def test_every_generic_word_is_not_part_of_the_core(word: str) -> None:
    assert core(f"Lafourche {word.title()}", "LA") == "LAFOURCHE"
    assert core(f"{word} Lafourche {word}", "LA") == "LAFOURCHE"


def test_a_generic_word_cut_short_is_still_the_word_but_not_below_four_letters() -> None:
    assert core("Berrian County Sheriff's Offic", "MI") == "BERRIAN"
    assert core("Berrian Coun Sher", "MI") == "BERRIAN"  # 4 letters: a cut word
    assert core("Berrian Cou", "MI") == "BERRIAN COU"  # 3 letters: a word of its own
    assert core("Berrian Dept", "MI") == "BERRIAN"


def test_the_trailing_state_code_goes_only_when_it_is_the_rows_state() -> None:
    assert core("Arnaudville Police Department, LA", "LA") == "ARNAUDVILLE"
    assert core("Arnaudville Police Department, LA", "TX") == "ARNAUDVILLE LA"
    assert core("LA Habra PD", "LA") == "LA HABRA"  # a leading LA is a word


def test_name_score_falls_back_to_the_whole_name_when_a_core_is_empty() -> None:
    # `County Sheriff's Office` has no core: the folded names are compared instead.
    assert name_score("County Sheriff's Office", "County Sheriffs Office", "TX") == 100.0
    assert name_score("County Sheriff's Office", "Ellis County Sheriff's Office", "TX") < 90
    assert name_score("Ellis SO", "County Sheriff's Office", "TX") < 60
    # Rounded to one decimal.
    assert name_score("Abcdefg", "Abcdefh", "TX") == round(200 * 6 / 14, 1) == 85.7


def test_body_kinds() -> None:
    assert body_kinds("Jackson County Sheriff's Office") == {"sheriff"}
    assert body_kinds("Jackson SO") == {"sheriff"}
    assert body_kinds("Jackson PD") == {"police"}
    assert body_kinds("Jackson Police and Sheriffs") == {"police", "sheriff"}
    assert body_kinds("Jackson Constables Marshals") == {"constable", "marshal"}
    assert body_kinds("Jackson Constable Marshal") == {"constable", "marshal"}
    assert body_kinds("Jackson County") == frozenset()


# --- timing ------------------------------------------------------------------------------


def test_back_after_without_every_sighting() -> None:
    c = cand(1, "A", 10, 20)
    assert c.back_after(day(5)) == day(10)  # listed from its first sighting
    assert c.back_after(day(15)) == day(15)
    assert c.back_after(day(20)) == day(20)  # its last day counts
    assert c.back_after(day(21)) is None


def test_back_after_with_every_sighting() -> None:
    c = cand(1, "A", 10, 30, seen=(10, 12, 30))
    assert c.back_after(day(11)) == day(12)
    assert c.back_after(day(12)) == day(12)
    assert c.back_after(day(13)) == day(30)
    assert c.back_after(day(31)) is None


# The new name is back `gap` days after the old one's last list.
def _renamed(gap: int, *, model: str = "TASK_FORCE", state: str = "FL") -> list[Link]:
    old = cand(1, "Melbourne PD", 0, 10)
    new = cand(2, "City of Melbourne Police Department", 10 + gap, 200, model=model,
               state=state, signed=(0,) if state != "FL" else ())  # fmt: skip
    if state != "FL":
        old = cand(1, "Melbourne PD", 0, 10, signed=(0,))
    return propose([old, new])


def test_the_arrival_gap_at_exactly_its_value_is_a_rename() -> None:
    assert ARRIVAL_GAP_DAYS == 14
    [link] = _renamed(ARRIVAL_GAP_DAYS)
    assert (link.kind, link.gap_days, link.method) == (LinkKind.RENAME, 14, "name-similarity")
    [link] = _renamed(ARRIVAL_GAP_DAYS + 1)
    assert (link.kind, link.gap_days) == (LinkKind.RELISTING, 15)


def test_the_relisting_gap_at_exactly_its_value_and_one_day_past() -> None:
    assert RELIST_GAP_DAYS == 120
    [link] = _renamed(RELIST_GAP_DAYS)
    assert (link.kind, link.gap_days) == (LinkKind.RELISTING, 120)
    assert _renamed(RELIST_GAP_DAYS + 1) == []


def test_a_state_correction_within_the_relisting_gap_only() -> None:
    [link] = _renamed(RELIST_GAP_DAYS, state="GA")
    assert (link.kind, link.method, link.gap_days) == (LinkKind.STATE, "signed-date", 120)
    assert _renamed(RELIST_GAP_DAYS + 1, state="GA") == []


def test_a_switch_within_the_arrival_gap_only() -> None:
    [link] = _renamed(ARRIVAL_GAP_DAYS, model="WARRANT_SERVICE_OFFICER")
    assert (link.kind, link.gap_days) == (LinkKind.SWITCH, 14)
    assert _renamed(ARRIVAL_GAP_DAYS + 1, model="WARRANT_SERVICE_OFFICER") == []


def test_a_switch_needs_the_same_state_and_a_later_first_sighting() -> None:
    old = cand(1, "Butler SO", 0, 10, model="WARRANT_SERVICE_OFFICER")
    # Listed from the same day as the old one: two models side by side, two agreements.
    same_day = cand(2, "Butler SO", 0, 30)
    assert propose([old, same_day]) == []
    later = cand(2, "Butler SO", 1, 30)
    [link] = propose([old, later])
    assert (link.kind, link.gap_days) == (LinkKind.SWITCH, 0)
    assert link.evidence == "Butler SO (FL, WARRANT_SERVICE_OFFICER) → Butler SO (TASK_FORCE)"
    elsewhere = cand(2, "Butler SO", 1, 30, state="GA", signed=(0,))
    assert propose([cand(1, "Butler SO", 0, 10, model="WSO", signed=(0,)), elsewhere]) == []


def test_timing_rules_out_current_agreements_and_successors_not_listed_later() -> None:
    old = cand(1, "Melbourne PD", 0, 10)
    assert (
        propose([cand(1, "Melbourne PD", 0, 10, current=True), cand(2, "Melbourne PD", 11, 20)])
        == []
    )
    assert propose([old, cand(2, "Melbourne Police", 0, 10)]) == []  # last seen the same day
    assert pairs(propose([old, cand(2, "Melbourne Police", 0, 11)])) == {(1, 2)}
    # Listed before the old one's last list, and not since: nothing to go on as.
    gone = cand(2, "Melbourne Police", 0, 30, seen=(0, 5, 30))
    [link] = propose([old, gone])
    assert link.gap_days == 20


def test_evidence_says_how_long_it_was_absent() -> None:
    [one] = _renamed(1)
    assert one.evidence == (
        "Melbourne PD (FL, TASK_FORCE) → City of Melbourne Police Department; "
        "absent 1 day (2025-05-11 → 2025-05-12)"
    )
    [two] = _renamed(2)
    assert two.evidence.endswith("; absent 2 days (2025-05-11 → 2025-05-13)")
    [none] = _renamed(0)
    assert none.evidence == "Melbourne PD (FL, TASK_FORCE) → City of Melbourne Police Department"
    [state] = _renamed(0, state="GA")
    assert state.evidence == (
        "both signed 2025-05-01; Melbourne PD (FL, TASK_FORCE) → "
        "City of Melbourne Police Department (GA)"
    )


# --- names and evidence at their thresholds ----------------------------------------------

# Cores of ten letters, nine shared: rapidfuzz ratio 2 × 9 / 20 = 90.0 exactly.
AT_90 = ("Abcdefghij PD", "Abcdefghik PD")
# Eight shared of ten: 80; three shared of five: 60 exactly; below it, 2 × 5 / 17 = 58.8.
AT_80 = ("Abcdefghij PD", "Abcdefghxy PD")
AT_60 = ("Abcde PD", "Abcxy PD")
BELOW_60 = ("Abcdefgh PD", "Abcdewxyz PD")


def test_the_names_at_exactly_the_thresholds() -> None:
    assert NAME_THRESHOLD == 90.0
    assert URL_NAME_FLOOR == 60.0
    assert name_score(*AT_90, "FL") == 90.0
    assert name_score(*AT_60, "FL") == 60.0
    assert name_score(*BELOW_60, "FL") == 58.8


def test_a_name_score_of_exactly_90_links() -> None:
    [link] = propose([cand(1, AT_90[0], 0, 10), cand(2, AT_90[1], 11, 30)])
    assert link == Link(
        1, 2, "name-similarity", 90.0, f"{AT_90[0]} (FL, TASK_FORCE) → {AT_90[1]}; absent 1 day "
        "(2025-05-11 → 2025-05-12)", LinkKind.RENAME, 1,
    )  # fmt: skip
    assert propose([cand(1, AT_80[0], 0, 10), cand(2, AT_80[1], 11, 30)]) == []


def test_a_shared_moa_url_links_from_exactly_the_floor() -> None:
    old = cand(1, AT_60[0], 0, 10, urls=("https://ice/b.pdf", "https://ice/a.pdf"))
    new = cand(2, AT_60[1], 11, 30, urls=("https://ice/a.pdf", "https://ice/b.pdf"))
    [link] = propose([old, new])
    assert (link.method, link.score, link.kind, link.gap_days) == ("moa-url", 60.0, "RENAME", 1)
    assert link.evidence.startswith(f"https://ice/a.pdf; {AT_60[0]} (FL, TASK_FORCE) → ")
    below_old = cand(1, BELOW_60[0], 0, 10, urls=("u",))
    assert propose([below_old, cand(2, BELOW_60[1], 11, 30, urls=("u",))]) == []
    # Another URL is no evidence.
    assert propose([old, cand(2, AT_60[1], 11, 30, urls=("v",))]) == []


def test_a_shared_url_links_bodies_of_different_kinds_but_a_name_does_not() -> None:
    old = cand(1, "Jackson County Sheriff's Office", 0, 10)
    police = cand(2, "Jackson Police Department", 11, 30)
    assert name_score(old.name, police.name, "FL") == 100
    assert propose([old, police]) == []
    unknown = cand(2, "Jackson", 11, 30)  # no kind said: agrees with any
    assert pairs(propose([old, unknown])) == {(1, 2)}
    with_url = [cand(1, old.name, 0, 10, urls=("u",)), cand(2, police.name, 11, 30, urls=("u",))]
    assert [x.method for x in propose(with_url)] == ["moa-url"]


def test_a_state_correction_needs_a_url_or_a_signing_date() -> None:
    old = cand(1, "Ellis SO", 0, 10, state="KS", signed=(3,))
    new = cand(2, "Ellis SO TX", 11, 30, state="TX", signed=(3, 4))
    # Scored both ways: under TX's code the trailing TX goes, and the names are one.
    assert name_score(old.name, new.name, "KS") < NAME_THRESHOLD
    [link] = propose([old, new])
    assert (link.method, link.score, link.kind) == ("signed-date", 100.0, LinkKind.STATE)
    assert (link.predecessor_id, link.successor_id, link.gap_days) == (1, 2, 1)
    assert link.evidence.startswith("both signed 2025-05-04; Ellis SO (KS, TASK_FORCE) → ")
    unsigned = cand(2, "Ellis SO TX", 11, 30, state="TX", signed=(4,))
    assert propose([old, unsigned]) == []
    assert [x.method for x in propose([cand(1, "Ellis SO", 0, 10, state="KS", urls=("u",)),
                                       cand(2, "Ellis SO", 11, 30, state="TX", urls=("u",))])
            ] == ["moa-url"]  # fmt: skip


def test_propose_looks_at_each_model_and_the_states_other_models_only() -> None:
    old = cand(1, "Melbourne PD", 0, 10)
    same = cand(2, "Melbourne PD", 11, 30)
    other_state_other_model = cand(3, "Melbourne PD", 11, 30, state="GA", model="JEM", signed=(0,))
    switch = cand(4, "Melbourne PD", 11, 30, model="JEM")
    assert pairs(propose([old, same, other_state_other_model, switch])) == {(1, 2), (1, 4)}
    # A successor is never itself, and current agreements have none.
    assert propose([old]) == []
    later = cand(5, "Melbourne", 31, 40, current=True)
    assert pairs(propose([old, same, later])) == {(1, 2), (1, 5), (2, 5)}


# --- one successor each ------------------------------------------------------------------


def _link(old: int, new: int, *, method: str = "name-similarity", score: float | None = 95.0,
          kind: LinkKind = LinkKind.RENAME, gap: int | None = 1) -> Link:  # fmt: skip
    return Link(old, new, method, score, "e", kind, gap)


ARRIVALS = {2: day(20), 3: day(20)}


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        (_link(1, 3, kind=LinkKind.RELISTING, gap=60), _link(1, 2, kind=LinkKind.STATE, gap=1)),
        (_link(1, 3, kind=LinkKind.STATE), _link(1, 2, kind=LinkKind.SWITCH)),
        (_link(1, 3, method="moa-url", score=60.0), _link(1, 2, score=100.0)),
        (_link(1, 3, score=96.0), _link(1, 2, score=95.0)),
        (_link(1, 3, score=95.0), _link(1, 2, score=None)),
        (_link(1, 3, gap=1), _link(1, 2, gap=2)),
        (_link(1, 3, gap=None), _link(1, 2, gap=1)),
    ],
)
def test_the_better_of_two_successors_wins(better: Link, worse: Link) -> None:
    assert resolve([worse, better], ARRIVALS) == [better]
    assert resolve([better, worse], ARRIVALS) == [better]


def test_ties_go_to_the_earlier_arrival_then_the_lower_ids() -> None:
    a, b = _link(1, 2), _link(1, 3)
    assert resolve([a, b], {2: day(21), 3: day(20)}) == [b]
    assert resolve([b, a], {2: day(20), 3: day(20)}) == [a]
    assert resolve([b, a], {3: day(20)}) == [b]  # no known arrival: the latest possible
    # Two predecessors for one successor: the lower id, all else equal.
    c, d = _link(4, 9), _link(5, 9)
    assert resolve([d, c], {}) == [c]


def test_a_reviewed_link_beats_a_forbidden_pair_and_the_matchers_links() -> None:
    proposed = [_link(1, 2, method="moa-url", score=100.0), _link(3, 4)]
    forced = [Link(1, 4, "override", None, "reviewed")]
    forbidden = frozenset({(1, 4), (3, 4)})
    assert resolve(proposed, {}, forced, forbidden) == forced
    # A forbidden pair the matcher proposes is never linked; the rest still is.
    assert resolve(proposed, {}, (), frozenset({(1, 2)})) == [proposed[1]]
    # A forbidden pair is skipped, not fatal: the next candidate gets its place.
    assert resolve([_link(1, 2, score=99.0), _link(1, 3)], {}, (), frozenset({(1, 2)})) == [
        _link(1, 3)
    ]


def test_no_link_closes_a_loop_and_the_result_is_sorted() -> None:
    chain = [_link(3, 1, score=99.0), _link(2, 3, score=98.0), _link(1, 2, score=97.0)]
    assert resolve(chain, {}) == [chain[1], chain[0]]
    assert resolve([_link(1, 1)], {}) == []
    long = [_link(i, i + 1, score=99.0 - i) for i in range(1, 6)] + [_link(6, 1, score=1.0)]
    assert resolve(long, {}) == long[:5]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 6),
            st.integers(1, 6),
            st.sampled_from(list(LinkKind)),
            st.sampled_from(["moa-url", "name-similarity"]),
            st.integers(60, 100),
            st.integers(0, 120),
        ),
        max_size=12,
    ),
    st.frozensets(st.tuples(st.integers(1, 6), st.integers(1, 6)), max_size=4),
)
def test_resolve_is_one_to_one_acyclic_and_respects_forbidden_pairs(
    raw: list[tuple[int, int, LinkKind, str, int, int]], forbidden: frozenset[tuple[int, int]]
) -> None:
    proposed = [Link(a, b, m, float(s), "e", k, g) for a, b, k, m, s, g in raw if a != b]
    chosen = resolve(proposed, {}, (), forbidden)
    olds = [x.predecessor_id for x in chosen]
    news = [x.successor_id for x in chosen]
    assert olds == sorted(olds)
    assert len(set(olds)) == len(olds)
    assert len(set(news)) == len(news)
    assert not pairs(chosen) & forbidden
    successor = dict(zip(olds, news, strict=True))
    for start in successor:
        node, steps = start, 0
        while node in successor and steps <= 6:
            node, steps = successor[node], steps + 1
            assert node != start
    # Every proposal left out conflicts with a chosen link (or is forbidden, or loops).
    for x in proposed:
        if x not in chosen and (x.predecessor_id, x.successor_id) not in forbidden:
            assert x.predecessor_id in successor or x.successor_id in news or x.successor_id in olds


# --- suspects ----------------------------------------------------------------------------


def test_a_same_named_arrival_in_another_state_is_flagged_not_linked() -> None:
    old = cand(1, "Ellis County Sheriff's Office", 0, 30, state="KS")
    new = cand(2, "Ellis County Sheriff's Office", 16, 90, state="TX")
    assert propose([old, new]) == []
    assert state_suspects([old, new], []) == [
        Suspect(1, 2, "Ellis County Sheriff's Office (KS) listed 2025-05-01 to 2025-05-31; "
                "Ellis County Sheriff's Office (TX) from 2025-05-17; no shared MOA URL or "
                "signing date"),
    ]  # fmt: skip
    # Already explained by a link; or of the same state; or another body; or another place.
    assert state_suspects([old, new], [_link(1, 5)]) == []
    assert state_suspects([old, cand(2, old.name, 16, 90, state="KS")], []) == []
    assert state_suspects([old, cand(2, "Ellis Police Department", 16, 90, state="TX")], []) == []
    assert state_suspects([old, cand(2, "Jewell County SO", 16, 90, state="TX")], []) == []
    assert state_suspects([old, cand(2, AT_90[1], 16, 90, state="TX")], []) == []
    at_90 = [cand(1, AT_90[0], 0, 30, state="KS"), cand(2, AT_90[1], 16, 90, state="TX")]
    assert len(state_suspects(at_90, [])) == 1
    at_80 = [cand(1, AT_80[0], 0, 30, state="KS"), cand(2, AT_80[1], 16, 90, state="TX")]
    assert state_suspects(at_80, []) == []


def test_a_suspect_arrived_as_the_old_one_left_or_was_absent_meanwhile() -> None:
    old = cand(1, "Ellis SO", 0, 30, state="KS")
    # Arrived exactly ARRIVAL_GAP_DAYS before the old one's last list: took over.
    assert len(state_suspects([old, cand(2, "Ellis SO", 16, 40, state="TX")], [])) == 1
    # A day earlier, listed side by side: two agreements.
    assert state_suspects([old, cand(2, "Ellis SO", 15, 40, state="TX")], []) == []
    # Listed long before, but absent while the old one was listed: took over.
    away = cand(2, "Ellis SO", -50, 40, state="TX", seen=(-50, 31, 40))
    assert len(state_suspects([old, away], [])) == 1
    during = cand(2, "Ellis SO", -50, 40, state="TX", seen=(-50, 30, 40))
    assert state_suspects([old, during], []) == []
    first_day = cand(2, "Ellis SO", -50, 40, state="TX", seen=(-50, 0, 40))
    assert state_suspects([old, first_day], []) == []
    # Back more than ARRIVAL_GAP_DAYS after the old one's last list: not a takeover.
    assert len(state_suspects([old, cand(2, "Ellis SO", 44, 90, state="TX")], [])) == 1
    assert state_suspects([old, cand(2, "Ellis SO", 45, 90, state="TX")], []) == []
    # Another model is another agreement.
    assert state_suspects([old, cand(2, "Ellis SO", 16, 40, state="TX", model="JEM")], []) == []


def test_the_whole_name_score_is_rounded_to_one_decimal_too() -> None:
    # No core on either side: the folded names, 22 and 23 letters, 2 × 22 / 45.
    assert name_score("County Sheriff's Office", "County Sheriffs Offices", "TX") == 97.8
