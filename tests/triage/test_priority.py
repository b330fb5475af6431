from datetime import UTC, datetime, timedelta

import pytest

from triage.priority import (
    DEFAULT_TARGETS,
    AiResult,
    OrderPolicy,
    StudyFacts,
    Target,
    ai_class,
    clinical_class,
    escalation_state,
    format_duration,
    location_kind,
    prioritise,
    sort_key,
)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
NO_AGEING = OrderPolicy(mode="off")


def facts(priority=None, location=None, **kwargs) -> StudyFacts:
    return StudyFacts(arrived_at=T0, requested_priority=priority, patient_location=location, **kwargs)


def lung(category: str, headline: str | None = None, suspicion=0.8) -> AiResult:
    return AiResult(model="lung_nodule", suspicion=suspicion, category=category, headline=headline)


# --- clinical class -------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "location", "expected"),
    [
        ("STAT", None, "stat"),
        ("stat", None, "stat"),
        ("  Stat ", "OUTPATIENT CLINIC", "stat"),
        ("HIGH", "OUTPATIENT CLINIC", "urgent"),
        ("high", None, "urgent"),
        ("ROUTINE", "OUTPATIENT CLINIC", "routine"),
        ("MEDIUM", None, "routine"),
        ("LOW", None, "routine"),
        ("ROUTINE", "EMERGENCY DEPT", "stat"),
        (None, "Emergency Department", "stat"),
        ("ROUTINE", "WARD 5 (INPATIENT)", "inpatient"),
        ("HIGH", "WARD 5 (INPATIENT)", "inpatient"),  # 4 h beats 24 h
        (None, "ICU bed 3", "inpatient"),
        (None, "OUTPATIENT CLINIC", "routine"),
        (None, None, "routine"),
        ("", "", "routine"),
        ("garbage!!", None, "routine"),
        (42, 17, "routine"),  # not strings at all
        ("ROUTINE", "MED WARD", "inpatient"),  # "ED" inside a word is not the ED
    ],
)
def test_clinical_class_maps_priority_and_location(priority, location, expected):
    code, why = clinical_class(facts(priority, location))
    assert code == expected
    assert why


@pytest.mark.parametrize(
    ("hl7", "expected"),
    [("S", "stat"), ("A", "urgent"), ("T", "urgent"), ("R", "routine"), ("P", "routine")],
)
def test_clinical_class_reads_hl7_priority(hl7, expected):
    assert clinical_class(facts(hl7_priority=hl7))[0] == expected


def test_hl7_coded_element_uses_its_first_component():
    assert clinical_class(facts(hl7_priority="S^Stat^HL70485"))[0] == "stat"


def test_the_more_urgent_of_dicom_and_hl7_priority_wins():
    assert clinical_class(facts("ROUTINE", hl7_priority="S"))[0] == "stat"
    assert clinical_class(facts("STAT", hl7_priority="R"))[0] == "stat"


def test_unrecognised_priority_is_named_in_the_reason():
    code, why = clinical_class(facts("ZZTOP"))
    assert code == "routine"
    assert "ZZTOP" in why


def test_missing_fields_are_explained():
    assert "no priority or location" in clinical_class(facts())[1]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("EMERGENCY DEPT", "emergency"),
        ("A&E resus", "emergency"),
        ("ED", "emergency"),
        ("WARD 5 (INPATIENT)", "inpatient"),
        ("OUTPATIENT CLINIC", "outpatient"),
        ("Breast screening unit", "outpatient"),
        ("somewhere", None),
        (None, None),
    ],
)
def test_location_kind(text, kind):
    assert location_kind(text) == kind


def test_a_manager_target_change_can_flip_the_clinical_class():
    # With inpatient slower than urgent, a HIGH inpatient order is urgent.
    targets = dict(DEFAULT_TARGETS)
    targets["inpatient"] = Target("inpatient", "Inpatient", 30, 48 * 60)
    assert clinical_class(facts("HIGH", "WARD 5"), targets=targets)[0] == "urgent"


# --- AI class --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("lungrads:1", None),
        ("lungrads:2", None),
        ("lungrads:3", None),
        ("lungrads:4A", "urgent"),
        ("lungrads:4a", "urgent"),
        ("Lung-RADS:4B", "ai_critical"),
        ("lungrads:4X", "ai_critical"),
        ("birads:0", "urgent"),  # a model's "recall for work-up"
        ("birads:1", None),
        ("birads:3", None),
        ("birads:4", "urgent"),
        ("birads:4C", "urgent"),
        ("birads:5", "urgent"),
        ("pirads:3", None),
        ("pirads:4", "urgent"),
        ("pirads:5", "urgent"),
    ],
)
def test_ai_class_follows_category_rules(category, expected):
    # Low suspicion, so only the category can raise the study.
    code, why, _ = ai_class(facts(ai_findings=(lung(category, suspicion=0.01),)))
    assert code == expected
    assert why


def test_known_category_below_rules_is_not_raised_by_a_high_score():
    # The category is the model's own reading of its score; trust it.
    code, _, suspicion = ai_class(facts(ai_findings=(lung("lungrads:2", suspicion=0.97),)))
    assert code is None
    assert suspicion == pytest.approx(0.97)


@pytest.mark.parametrize(
    ("model", "score", "expected"),
    [
        ("ich", 0.49, None),
        ("ich", 0.5, "ai_critical"),
        ("ICH", 0.9, "ai_critical"),
        ("pneumothorax", 0.7, "ai_critical"),
        ("some_new_model", 0.9, "urgent"),
        ("some_new_model", 0.2, None),
        ("ich", None, None),
        ("ich", float("nan"), None),
    ],
)
def test_ai_class_follows_flag_rules(model, score, expected):
    assert ai_class(facts(ai_findings=(AiResult(model, score, None, None),)))[0] == expected


@pytest.mark.parametrize(
    ("stated", "score", "expected"),
    [(0.3, 0.35, "urgent"), (0.3, 0.25, None), (0.8, 0.7, None), (None, 0.5, "urgent"),
     (float("nan"), 0.5, "urgent"), (1.5, 0.6, "urgent")],  # nonsense thresholds fall back to the rule's 0.5
)
def test_a_model_stated_operating_threshold_decides_its_flag(stated, score, expected):
    result = AiResult("prostate", score, None, None, threshold=stated)
    assert ai_class(facts(ai_findings=(result,)))[0] == expected


# --- reading queue -----------------------------------------------------------------


def test_the_queue_and_the_birads_report_agree_on_what_is_screening():
    # The RIS order's procedure makes a plainly described mammogram a screening case, for both.
    by_order = facts(None, "BREAST CLINIC", modality="MG", study_description="MAMMO BILAT",
                     requested_procedure="SCREENING MAMMOGRAM BILATERAL")
    assert prioritise(by_order, DEFAULT_TARGETS, now=T0).queue == "screening"


def mammo(category, suspicion, description="MAMMOGRAPHY SCREENING BILATERAL", location="SCREENING CENTRE"):
    return facts(None, location, modality="MG", study_description=description,
                 ai_findings=(AiResult("mammography", suspicion, category, "R breast: mass"),) if category else ())


@pytest.mark.parametrize(
    ("study", "queue", "code"),
    [
        (mammo(None, None), "screening", "routine"),
        (mammo("birads:1", 0.1), "screening", "routine"),
        (mammo("birads:0", 0.9), "diagnostic_workup", "urgent"),
        (mammo("birads:4B", 0.9), "diagnostic_workup", "urgent"),
        # A diagnostic mammogram is not in the screening programme, suspicious or not.
        (mammo("birads:0", 0.9, "MAMMOGRAPHY DIAGNOSTIC LEFT", "BREAST CLINIC"), "general", "urgent"),
        (facts(None, "SCREENING CENTRE", modality="CT", study_description="LOW DOSE CT SCREENING"), "general",
         "routine"),
    ],
)
def test_a_suspicious_screening_case_moves_to_diagnostic_workup_with_higher_urgency(study, queue, code):
    priority = prioritise(study, DEFAULT_TARGETS, now=T0)
    assert (priority.queue, priority.urgency_code) == (queue, code)
    if queue == "diagnostic_workup":
        assert "moved to diagnostic work-up" in priority.reason


def test_the_most_urgent_ai_finding_wins_and_suspicion_is_the_highest():
    results = (
        lung("lungrads:4A", "9 mm solid nodule", 0.6),
        lung("lungrads:4B", "17 mm solid nodule", 0.9),
        AiResult("emphysema", 0.3, None, None),
    )
    code, why, suspicion = ai_class(facts(ai_findings=results))
    assert code == "ai_critical"
    assert "4B" in why and "17 mm" in why
    assert suspicion == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("ai_failed: timeout", "AI failed (timeout)"),
        ("ai_failed (out of memory)", "AI failed (out of memory)"),
        ("ai_failed", "AI failed"),
        ("timeout", "AI failed (timeout)"),
    ],
)
def test_ai_failure_is_shown_and_does_not_raise(status, words):
    code, why, _ = ai_class(facts(ai_status=status))
    assert code is None
    assert why == words


def test_no_ai_and_pending_ai_are_told_apart():
    assert ai_class(facts())[1] == "no AI result"
    assert ai_class(facts(ai_status="ai_pending"))[1] == "AI pending"
    assert ai_class(facts(ai_status="received"))[1] == "AI pending"
    assert ai_class(facts(ai_status="analysing"))[1] == "AI pending"
    assert ai_class(facts(ai_status="analysed"))[1] == "no AI result"


# --- prioritise and reason ---------------------------------------------------------


def test_ai_raises_a_routine_order_and_says_so():
    f = facts("ROUTINE", "OUTPATIENT CLINIC", ai_findings=(lung("lungrads:4A", "9 mm solid nodule"),))
    p = prioritise(f, DEFAULT_TARGETS, now=T0 + timedelta(hours=23, minutes=18), policy=NO_AGEING)
    assert p.urgency_code == "urgent"
    assert p.due_at == T0 + timedelta(hours=24)
    assert p.reason == ("AI: Lung-RADS 4A suggested (9 mm solid nodule) → urgent; ordered routine; due in 42 min")
    assert p.escalation == "near"


def test_stat_order_reason():
    p = prioritise(facts("STAT", "EMERGENCY DEPT"), DEFAULT_TARGETS, now=T0 + timedelta(minutes=48))
    assert p.urgency_code == "stat"
    assert p.reason == "STAT order from emergency department; due in 12 min"


def test_routine_with_quiet_ai_reason():
    f = facts("ROUTINE", "OUTPATIENT CLINIC", ai_findings=(lung("lungrads:2", suspicion=0.1),))
    p = prioritise(f, DEFAULT_TARGETS, now=T0 + timedelta(hours=20), policy=NO_AGEING)
    assert p.urgency_code == "routine"
    assert p.reason == ("Routine outpatient; AI found nothing suspicious (Lung-RADS 2); due in 3 d 4 h")


def test_failed_ai_reads_as_ordered():
    f = facts("ROUTINE", None, ai_status="ai_failed: timeout")
    p = prioritise(f, DEFAULT_TARGETS, now=T0)
    assert p.urgency_code == "routine"
    assert p.reason.startswith("Routine; AI failed (timeout) — read as ordered")


def test_ai_does_not_lower_a_stat_order():
    f = facts("STAT", "EMERGENCY DEPT", ai_findings=(lung("lungrads:1", suspicion=0.0),))
    assert prioritise(f, DEFAULT_TARGETS, now=T0).urgency_code == "stat"


def test_equal_targets_go_to_the_lower_rank():
    # STAT and AI-critical both have 60 min; STAT has the lower rank.
    f = facts("STAT", "EMERGENCY DEPT", ai_findings=(AiResult("ich", 0.95, None, None),))
    p = prioritise(f, DEFAULT_TARGETS, now=T0)
    assert p.urgency_code == "stat"
    assert "intracranial haemorrhage" in p.reason


def test_targets_passed_in_decide_the_due_time():
    targets = dict(DEFAULT_TARGETS)
    targets["routine"] = Target("routine", "Routine", 50, 7 * 24 * 60)
    p = prioritise(facts("ROUTINE"), targets, now=T0)
    assert p.due_at == T0 + timedelta(days=7)


def test_a_missing_class_falls_back_to_its_default():
    p = prioritise(facts("STAT"), {}, now=T0)
    assert (p.urgency_code, p.due_at) == ("stat", T0 + timedelta(minutes=60))


def test_overdue_reason_and_escalation():
    p = prioritise(facts("STAT"), DEFAULT_TARGETS, now=T0 + timedelta(minutes=75))
    assert p.escalation == "overdue"
    assert "overdue by 15 min" in p.reason


def test_default_now_is_the_clock():
    arrived = datetime.now(tz=UTC) - timedelta(minutes=30)
    f = StudyFacts(arrived_at=arrived, requested_priority="STAT", patient_location=None)
    assert "due in 29 min" in prioritise(f, DEFAULT_TARGETS).reason


@pytest.mark.parametrize(
    ("minutes_left", "state"),
    [(-1, "overdue"), (0, "near"), (10, "near"), (15, "near"), (16, "none")],
)
def test_escalation_state(minutes_left, state):
    due = T0 + timedelta(hours=1)
    assert escalation_state(due, due - timedelta(minutes=minutes_left), 15) == state


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "0 min"), (42, "42 min"), (60, "1 h"), (65, "1 h 5 min"), (1440, "1 d"), (4560, "3 d 4 h")],
)
def test_format_duration(minutes, text):
    assert format_duration(timedelta(minutes=minutes, seconds=30)) == text


def test_sort_key_puts_earlier_due_first_then_suspicion_then_arrival():
    quiet = prioritise(facts("STAT"), DEFAULT_TARGETS, now=T0)
    flagged = prioritise(facts("STAT", ai_findings=(AiResult("ich", 0.9, None, None),)), DEFAULT_TARGETS, now=T0)
    routine = prioritise(facts("ROUTINE"), DEFAULT_TARGETS, now=T0)
    keys = [
        ("routine", sort_key(routine, T0)),
        ("quiet", sort_key(quiet, T0)),
        ("flagged", sort_key(flagged, T0)),
    ]
    assert [name for name, _ in sorted(keys, key=lambda kv: kv[1])] == ["flagged", "quiet", "routine"]
