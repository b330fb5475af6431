"""The age ceiling: the ordering rules that bound how long the AI's misses wait (issue 18)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.priority import (
    AGEING_CEILING,
    AGEING_OFF,
    AGEING_PROMOTE,
    DEFAULT_TARGETS,
    ORDER_FIELDS,
    AiResult,
    OrderPolicy,
    StudyFacts,
    Target,
    ai_closeness,
    order_ceiling,
    order_position,
    prioritise,
    sort_key,
    study_sort_key,
    targets_check,
)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
# Explicit targets and ceilings, so that a change of the defaults does not change what is tested.
TARGETS = {
    "stat": Target("stat", "STAT", 10, 60),
    "ai_critical": Target("ai_critical", "AI critical", 20, 60),
    "inpatient": Target("inpatient", "Inpatient", 30, 240),
    "urgent": Target("urgent", "Urgent", 40, 1440, ceiling_minutes=120),
    "routine": Target("routine", "Routine", 50, 5760, ceiling_minutes=360),
}
CEILING = OrderPolicy(mode=AGEING_CEILING, score_weight=0.5)
PROMOTE = OrderPolicy(mode=AGEING_PROMOTE, score_weight=0.5)


def routine(minutes_after_t0=0, suspicion=None, status=None) -> StudyFacts:
    findings = (AiResult("cxr_critical", suspicion),) if suspicion is not None else ()
    return StudyFacts(T0 + timedelta(minutes=minutes_after_t0), "ROUTINE", "OUTPATIENT CLINIC",
                      ai_findings=findings, ai_status=status or ("ai_done" if findings else None))


def flagged(minutes_after_t0) -> StudyFacts:
    return StudyFacts(T0 + timedelta(minutes=minutes_after_t0), "ROUTINE", "OUTPATIENT CLINIC",
                      ai_findings=(AiResult("ich", 0.97),), ai_status="ai_done")


def key(f: StudyFacts, now: datetime, policy=CEILING, tiebreak=0):
    return sort_key(prioritise(f, TARGETS, now=now, policy=policy), f.arrived_at, tiebreak=tiebreak)


# --- unit: the rules -------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [CEILING, PROMOTE])
def test_a_routine_study_past_its_ceiling_rises_above_a_newer_flagged_one(policy):
    old = routine(0, suspicion=0.02)  # the AI scored it low: a 6 h x (1 - 0.5 x 0.04) ceiling
    new = flagged(6 * 60)  # AI critical: due one hour after it arrived
    before, after = T0 + timedelta(minutes=5 * 60 + 52), T0 + timedelta(minutes=7 * 60)
    assert key(old, after, policy) < key(new, after, policy, tiebreak=1)
    p = prioritise(old, TARGETS, now=after, policy=policy)
    assert p.aged and "past its 5 h 52 min age ceiling" in p.reason and "moved up" in p.reason
    # Without ageing the routine study stays behind for its four days.
    assert key(old, after, OrderPolicy(mode=AGEING_OFF)) > key(new, after, OrderPolicy(mode=AGEING_OFF), 1)
    assert not prioritise(old, TARGETS, now=before - timedelta(minutes=10), policy=policy).aged


def test_promote_moves_a_study_above_a_flagged_one_only_once_it_has_reached_its_ceiling():
    old, new = routine(0, suspicion=0.02), flagged(4 * 60)
    at_five, at_seven = T0 + timedelta(hours=5), T0 + timedelta(hours=7)
    assert key(new, at_five, PROMOTE, 1) < key(old, at_five, PROMOTE)
    assert key(old, at_seven, PROMOTE) < key(new, at_seven, PROMOTE, 1)
    # The ceiling design places it by its ceiling from the start: a flagged study that arrived within an hour
    # of that goes first, one that arrived later goes after it.
    assert key(new, at_five, CEILING, 1) < key(old, at_five, CEILING)
    assert key(old, at_seven, CEILING) < key(flagged(5 * 60), at_seven, CEILING, 1)


def test_the_reason_says_nothing_of_ageing_before_the_ceiling():
    p = prioritise(routine(0, suspicion=0.02), TARGETS, now=T0 + timedelta(hours=5), policy=CEILING)
    assert "ceiling" not in p.reason and not p.aged


def test_ai_suspicion_below_threshold_shortens_the_ceiling():
    near = prioritise(routine(0, suspicion=0.45), TARGETS, now=T0, policy=CEILING)  # 0.9 of the 0.5 threshold
    far = prioritise(routine(0, suspicion=0.05), TARGETS, now=T0, policy=CEILING)
    assert near.urgency_code == far.urgency_code == "routine"  # neither is flagged
    assert near.order_at == T0 + timedelta(minutes=360 * (1 - 0.5 * 0.9))
    assert far.order_at == T0 + timedelta(minutes=360 * (1 - 0.5 * 0.1))
    assert near.order_at < far.order_at


def test_a_model_stated_threshold_sets_the_closeness():
    facts = StudyFacts(T0, "ROUTINE", None, ai_findings=(AiResult("prostate", 0.2, threshold=0.4),))
    assert ai_closeness(facts) == pytest.approx(0.5)
    assert ai_closeness(StudyFacts(T0, "ROUTINE", None)) is None


def test_an_unscored_study_gets_the_policys_closeness():
    policy = replace(CEILING, unscored_closeness=0.6)
    failed = prioritise(routine(0, status="ai_failed: timeout"), TARGETS, now=T0 + timedelta(hours=5), policy=policy)
    assert failed.order_at == T0 + timedelta(minutes=360 * (1 - 0.5 * 0.6))
    assert "(shortened: no AI score)" in failed.reason


def test_promote_puts_aged_studies_first_oldest_first_and_says_when_it_changes():
    tier, at, aged, changes = order_position(arrived_at=T0, due_at=T0 + timedelta(days=4), ceiling_minutes=360,
                                             closeness=0.0, now=T0 + timedelta(hours=1), policy=PROMOTE)
    assert (tier, at, aged, changes) == (1, T0 + timedelta(days=4), False, T0 + timedelta(hours=6))
    tier, at, aged, changes = order_position(arrived_at=T0, due_at=T0 + timedelta(days=4), ceiling_minutes=360,
                                             closeness=0.0, now=T0 + timedelta(hours=6), policy=PROMOTE)
    assert (tier, at, aged, changes) == (0, T0, True, None)


def test_a_ceiling_no_shorter_than_the_target_moves_nothing():
    for policy in (CEILING, PROMOTE):
        assert order_position(arrived_at=T0, due_at=T0 + timedelta(hours=1), ceiling_minutes=120, closeness=0.0,
                              now=T0 + timedelta(hours=3), policy=policy) == (1, T0 + timedelta(hours=1), False, None)


def test_study_sort_key_follows_order_fields():
    assert ORDER_FIELDS == ("order_tier", "order_at", "-ai_suspicion", "arrived_at", "id")
    a = study_sort_key(order_tier=1, order_at=T0, ai_suspicion=None, arrived_at=T0, id=1)
    b = study_sort_key(order_tier=1, order_at=T0, ai_suspicion=0.1, arrived_at=T0, id=2)
    c = study_sort_key(order_tier=1, order_at=None, ai_suspicion=0.9, arrived_at=T0, id=3)
    d = study_sort_key(order_tier=0, order_at=T0 + timedelta(days=9), ai_suspicion=None, arrived_at=T0, id=4)
    assert sorted([a, b, c, d]) == [d, b, a, c]  # tier first; missing suspicion and order_at last
    # As in the database (DESC NULLS LAST): a suspicion of 0 comes before a missing one, whatever the id.
    zero = study_sort_key(order_tier=1, order_at=T0, ai_suspicion=0.0, arrived_at=T0, id=9)
    assert zero < a


# --- targets editor: inconsistent targets are refused -------------------------------------


def test_an_urgent_target_shorter_than_stat_is_refused():
    targets = dict(TARGETS, urgent=replace(TARGETS["urgent"], minutes=30, ceiling_minutes=None))
    errors, _ = targets_check(targets)
    assert any("Urgent (30 min) would be shorter than STAT (1 h)" in e for e in errors)


def test_a_ceiling_longer_than_its_target_is_refused_and_an_inverted_ceiling_warned():
    errors, _ = targets_check(dict(TARGETS, urgent=replace(TARGETS["urgent"], ceiling_minutes=2000)))
    assert any("age ceiling 1 d 9 h is longer than its target 1 d" in e for e in errors)
    errors, warnings = targets_check(dict(TARGETS, routine=replace(TARGETS["routine"], ceiling_minutes=60)))
    assert not errors
    assert any("Routine studies are moved up after 1 h, sooner than Urgent studies (2 h)" in w for w in warnings)
    assert targets_check(TARGETS) == ([], [])
    assert targets_check(DEFAULT_TARGETS)[0] == []


# --- properties -------------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=10 * 24 * 60)
suspicions = st.one_of(st.none(), st.floats(min_value=0, max_value=1))
kinds = st.sampled_from([("ROUTINE", "OUTPATIENT CLINIC"), ("STAT", None), ("ROUTINE", "WARD 5 (INPATIENT)"),
                         ("HIGH", None), (None, None)])
policies = st.builds(OrderPolicy, mode=st.sampled_from([AGEING_CEILING, AGEING_PROMOTE]),
                     score_weight=st.floats(min_value=0, max_value=1),
                     unscored_closeness=st.floats(min_value=0, max_value=1))
ceilings = st.one_of(st.none(), st.integers(min_value=1, max_value=5760))


@st.composite
def studies(draw):
    priority, location = draw(kinds)
    suspicion = draw(suspicions)
    model = draw(st.sampled_from(["ich", "cxr_critical", "other"]))
    findings = (AiResult(model, suspicion),) if suspicion is not None else ()
    status = draw(st.sampled_from([None, "ai_done", "ai_failed: timeout"]))
    return StudyFacts(T0 + timedelta(minutes=draw(minutes)), priority, location, ai_findings=findings,
                      ai_status=status)


def targets_with(urgent_ceiling, routine_ceiling):
    out = dict(TARGETS)
    out["urgent"] = replace(TARGETS["urgent"], ceiling_minutes=urgent_ceiling)
    out["routine"] = replace(TARGETS["routine"], ceiling_minutes=routine_ceiling)
    return out


@settings(max_examples=200)
@given(f=studies(), now=minutes, policy=policies, uc=ceilings, rc=ceilings)
def test_ageing_only_ever_moves_a_study_up(f, now, policy, uc, rc):
    targets = targets_with(uc, rc)
    at = T0 + timedelta(minutes=now)
    p = prioritise(f, targets, now=at, policy=policy)
    off = prioritise(f, targets, now=at, policy=OrderPolicy(mode=AGEING_OFF))
    assert (p.order_tier, p.order_at) <= (off.order_tier, off.order_at)
    assert p.order_at <= p.due_at or p.order_tier == 0
    # Class, due time and escalation (what the department is judged on) do not change.
    assert (p.urgency_code, p.due_at, p.escalation) == (off.urgency_code, off.due_at, off.escalation)
    assert p.aged == ("age ceiling" in p.reason)


@settings(max_examples=200)
@given(old=studies(), new=studies(), after=st.integers(min_value=1, max_value=3000), policy=policies,
       uc=ceilings, rc=ceilings)
def test_past_its_ceiling_a_study_is_ahead_of_every_study_that_arrived_after_it_got_there(old, new, after, policy,
                                                                                            uc, rc):
    targets = targets_with(uc, rc)
    late = T0 + timedelta(days=30)
    p_old = prioritise(old, targets, now=late, policy=policy)
    if not p_old.aged:
        return
    aged_at = old.arrived_at + order_ceiling(targets[p_old.urgency_code], p_old.closeness, policy)
    newcomer = replace(new, arrived_at=aged_at + timedelta(minutes=after))
    if newcomer.arrived_at > late:
        return
    assert sort_key(p_old, old.arrived_at, tiebreak=0) < sort_key(
        prioritise(newcomer, targets, now=late, policy=policy), newcomer.arrived_at, tiebreak=1)


@settings(max_examples=200)
@given(f=studies(), policy=policies, uc=ceilings, rc=ceilings, a=minutes, b=minutes)
def test_the_key_changes_only_when_a_study_reaches_its_ceiling(f, policy, uc, rc, a, b):
    targets = targets_with(uc, rc)
    ta, tb = sorted([T0 + timedelta(minutes=a), T0 + timedelta(minutes=b)])
    pa, pb = (prioritise(f, targets, now=t, policy=policy) for t in (ta, tb))
    if pa.aged == pb.aged:
        assert sort_key(pa, f.arrived_at) == sort_key(pb, f.arrived_at)
    else:
        assert not pa.aged and pb.aged  # ageing is one-way
        if policy.mode == AGEING_CEILING:
            assert sort_key(pa, f.arrived_at) == sort_key(pb, f.arrived_at)  # same place, now explained


@settings(max_examples=200)
@given(arrived=minutes, low=st.floats(min_value=0, max_value=1), high=st.floats(min_value=0, max_value=1),
       policy=policies, ceiling=st.integers(min_value=1, max_value=5760), now=minutes)
def test_a_higher_ai_suspicion_never_waits_longer(arrived, low, high, policy, ceiling, now):
    low, high = sorted([low, high])
    at = T0 + timedelta(minutes=arrived)
    due = at + timedelta(days=4)
    clock = T0 + timedelta(minutes=now)
    lo = order_position(arrived_at=at, due_at=due, ceiling_minutes=ceiling, closeness=low, now=clock, policy=policy)
    hi = order_position(arrived_at=at, due_at=due, ceiling_minutes=ceiling, closeness=high, now=clock, policy=policy)
    assert hi[:2] <= lo[:2]
