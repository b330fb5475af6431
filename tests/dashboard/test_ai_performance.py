"""AI statistics: flag definition, PPV, agreement, misses, failures, inference time, drift."""

from datetime import timedelta

import pytest

from dashboard import selectors
from dashboard.selectors import Window, agreement_drift
from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import FindingDecision, FindingReview
from tests.dashboard.helpers import NOW, analysis, reported_study
from triage.priority import AiResult, StudyFacts, ai_class

pytestmark = pytest.mark.django_db

WINDOW = Window(since=NOW - timedelta(days=7), until=NOW)


def review(run: AnalysisRun, index: int, decision: str, reviewer, *, at=None) -> FindingReview:
    item = FindingReview.objects.create(study=run.study, analysis=run, finding_index=index, decision=decision,
                                        reviewer=reviewer)
    if at is not None:
        FindingReview.objects.filter(pk=item.pk).update(reviewed_at=at)
    return item


def added(study, reviewer) -> FindingReview:
    return FindingReview.objects.create(study=study, decision=FindingDecision.ADDED, reviewer=reviewer,
                                        diameter_mm=6.0, finding_type="solid", centre_mm=[0, 0, 0])


@pytest.mark.parametrize(("model", "category", "suspicion"), [
    ("lung_nodule", "lungrads:4A", 0.9), ("lung_nodule", "lungrads:4B", 0.2), ("lung_nodule", "lungrads:3", 0.95),
    ("lung_nodule", "lungrads:2", None), ("mammo", "birads:4", 0.7), ("mammo", "birads:2", 0.99),
    ("prostate", "pirads:5", 0.8), ("prostate", "pirads:3", 0.8), ("ich", "", 0.5), ("ich", "", 0.49),
    ("pneumothorax", "", 0.7), ("new_detector", "", 0.6), ("new_detector", "", 0.3), ("new_detector", "other:9", 0.8),
    ("ICH", "", 0.8),
])
def test_flagged_in_sql_means_what_triage_does(model, category, suspicion):
    study = reported_study(arrived_minutes_ago=100, turnaround=10)
    run = analysis(study, model=model, category=category, suspicion=suspicion)
    facts = StudyFacts(arrived_at=NOW, requested_priority=None, patient_location=None,
                       ai_findings=(AiResult(model=model, suspicion=suspicion, category=category or None),))
    raised, _, _ = ai_class(facts)
    assert AnalysisRun.objects.filter(selectors.flagged_q(), pk=run.pk).exists() == (raised is not None)


@pytest.mark.parametrize("in_python", [False, True], ids=["postgresql", "python-fallback"])
def test_model_performance_by_hand(radiologist, in_python, monkeypatch):
    if in_python:  # the demo's SQLite path: percentiles computed in Python from the same rows
        monkeypatch.setattr(selectors, "_is_postgres", lambda: False)
    r = radiologist
    v1 = []
    # lung_nodule 1.0: six done runs, one failed, one running.
    #   flagged (Lung-RADS 4A/4B): runs a, b, c, d; not flagged: e (category 2), f (category 3).
    #   a: findings 0 accepted, 1 rejected        -> flag reviewed, confirmed
    #   b: finding 0 edited                       -> flag reviewed, confirmed
    #   c: findings 0 rejected, 1 rejected        -> flag reviewed, not confirmed
    #   d: no reviews                             -> not reviewed: left out of PPV
    #   e: finding 0 accepted; reader added one   -> not a flag
    #   f: no findings; reader added one          -> not a flag
    for category, findings, seconds in (("lungrads:4A", 2, 10), ("lungrads:4B", 1, 20), ("lungrads:4A", 2, 30),
                                        ("lungrads:4X", 1, 40), ("lungrads:2", 1, 50), ("lungrads:3", 0, 100)):
        study = reported_study(arrived_minutes_ago=200, turnaround=60, modality="CT")
        v1.append(analysis(study, category=category, suspicion=0.5, findings=findings, seconds=seconds))
    a, b, c, d, e, f = v1
    review(a, 0, FindingDecision.ACCEPTED, r)
    review(a, 1, FindingDecision.REJECTED, r)
    review(b, 0, FindingDecision.EDITED, r)
    review(c, 0, FindingDecision.REJECTED, r)
    review(c, 1, FindingDecision.REJECTED, r)
    review(e, 0, FindingDecision.ACCEPTED, r)
    added(e.study, r)
    added(f.study, r)
    failed_study = reported_study(arrived_minutes_ago=200, turnaround=60)
    analysis(failed_study, status=AnalysisStatus.FAILED, error="timeout reading series 3")
    analysis(reported_study(arrived_minutes_ago=200, turnaround=60), status=AnalysisStatus.RUNNING)
    # Another version, and a run outside the window: separate row / not counted.
    analysis(reported_study(arrived_minutes_ago=200, turnaround=60), version="2.0", category="lungrads:2", seconds=5)
    analysis(reported_study(arrived_minutes_ago=200, turnaround=60), started=NOW - timedelta(days=9),
             category="lungrads:4B")

    rows = {(m["model_name"], m["model_version"]): m for m in selectors.ai_model_performance(window=WINDOW)}
    assert set(rows) == {("lung_nodule", "1.0"), ("lung_nodule", "2.0")}
    m = rows["lung_nodule", "1.0"]
    assert (m["runs"], m["analysed"], m["failed"], m["running"]) == (8, 6, 1, 1)
    assert m["failure_rate"] == pytest.approx(1 / 7)  # 1 failed of 7 finished
    assert m["flagged"] == 4 and m["flag_rate"] == pytest.approx(4 / 6)
    # PPV: confirmed a, b of reviewed a, b, c = 2/3.
    assert (m["flags_confirmed"], m["flags_reviewed"]) == (2, 3) and m["ppv"] == pytest.approx(2 / 3)
    # Findings: accepted 2 (a0, e0), edited 1 (b0), rejected 3 (a1, c0, c1): agree 3 of 6 = 0.5.
    assert (m["findings_accepted"], m["findings_edited"], m["findings_rejected"]) == (2, 1, 3)
    assert m["accepted_share"] == pytest.approx(0.5)
    # Added by readers on studies this model analysed: 2; missed share 2 / (3 agreed + 2 added) = 0.4.
    assert m["findings_added"] == 2 and m["missed_share"] == pytest.approx(0.4)
    # Inference seconds 10 20 30 40 50 100: median (30 + 40) / 2 = 35; P90 rank 4.5 -> 50 + 0.5 x 50 = 75.
    assert m["inference_median_seconds"] == pytest.approx(35)
    assert m["inference_p90_seconds"] == pytest.approx(75)
    assert rows["lung_nodule", "2.0"]["flagged"] == 0 and rows["lung_nodule", "2.0"]["ppv"] is None

    failures = selectors.ai_failure_reasons(window=WINDOW)
    assert [(f["model_name"], f["reason"], f["n"]) for f in failures] == [
        ("lung_nodule", "timeout reading series 3", 1)]


def test_agreement_drift_by_hand():
    # Baseline 90 of 100 (0.90), recent 30 of 50 (0.60). Pooled 120/150 = 0.8;
    # se = sqrt(0.8 x 0.2 x (1/100 + 1/50)) = sqrt(0.0048) = 0.06928; z = -0.30 / 0.06928 = -4.33.
    drift = agreement_drift(baseline_agreed=90, baseline_n=100, recent_agreed=30, recent_n=50)
    assert drift.alert and drift.z == pytest.approx(-4.330, abs=1e-3)
    assert drift.baseline_share == pytest.approx(0.9) and drift.recent_share == pytest.approx(0.6)
    # Same drop with only 10 recent reviews: too few to judge.
    assert not agreement_drift(baseline_agreed=90, baseline_n=100, recent_agreed=6, recent_n=10).alert
    # 0.90 -> 0.85 (n 100 and 40): a drop under 10 points is not an alert.
    assert not agreement_drift(baseline_agreed=90, baseline_n=100, recent_agreed=34, recent_n=40).alert
    # 0.80 -> 0.68 on n 20 and 25: pooled 33/45 = 0.7333; se = sqrt(0.7333 x 0.2667 x (1/20 + 1/25)) = 0.1327;
    # z = -0.12 / 0.1327 = -0.90: a 12-point drop, but within chance.
    weak = agreement_drift(baseline_agreed=16, baseline_n=20, recent_agreed=17, recent_n=25)
    assert not weak.alert and weak.z == pytest.approx(-0.904, abs=1e-3) and "not beyond chance" in weak.reason
    # Agreement going up never alerts.
    assert not agreement_drift(baseline_agreed=50, baseline_n=100, recent_agreed=45, recent_n=50).alert


def test_drift_alert_and_weekly_agreement_from_reviews(radiologist):
    study = reported_study(arrived_minutes_ago=60 * 24 * 30, turnaround=60)
    run = analysis(study, findings=80, started=NOW - timedelta(days=30))
    # Baseline (8-35 days ago): 27 of 30 agree (0.9). Recent (last 7 days): 10 of 25 agree (0.4).
    for i in range(30):
        decision = FindingDecision.ACCEPTED if i < 27 else FindingDecision.REJECTED
        review(run, i, decision, radiologist, at=NOW - timedelta(days=10))
    for i in range(25):
        decision = FindingDecision.EDITED if i < 10 else FindingDecision.REJECTED
        review(run, 30 + i, decision, radiologist, at=NOW - timedelta(days=2))
    [drift] = selectors.ai_agreement_drift(now=NOW)
    assert (drift["baseline_reviews"], drift["recent_reviews"]) == (30, 25)
    assert drift["baseline_share"] == pytest.approx(0.9) and drift["recent_share"] == pytest.approx(0.4)
    assert drift["alert"]

    weekly = selectors.ai_agreement_over_time(window=Window(since=NOW - timedelta(days=35), until=NOW))
    # 10 days before Monday 10 March is Friday 28 Feb (week of 24 Feb); 2 days before is Saturday 8 March
    # (week of 3 March).
    assert [(w["week"], w["agreed"], w["reviewed"]) for w in weekly] == [("2025-02-24", 27, 30),
                                                                         ("2025-03-03", 10, 25)]
