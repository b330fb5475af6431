"""Moving findings review, reports, versions and critical results from worklist to reporting loses nothing.

The database is migrated back to the last state before the move, rows are written there through the
historical worklist models (with a clinician escalation and a mined prior pointing at them), and
the database is migrated forward again: every row reads back through reporting's models with the
same id and values, the foreign keys from clinician and priors still resolve, and the content types
(which permissions hang on) carry the reporting label under the same id.
"""

from datetime import UTC, date, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clinician.models import CriticalEscalation
from priors.models import PriorReport
from reporting.models import CriticalResult, FindingDecision, FindingReview, Report, ReportVersion

# transaction=True: the migrations run as they would on a deployed database, outside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [
    ("worklist", "0011_alert_order_patient_mismatch"),
    ("reporting", "0002_image_view"),
    ("clinician", "0001_initial"),
    ("priors", "0001_initial"),
]
SIGNED_AT = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what is applied now, after earlier calls
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_rows_written_before_the_move_read_back_through_reporting(radiologist):
    ContentType.objects.clear_cache()
    old = migrate(BEFORE_THE_MOVE)
    study = old.get_model("worklist", "Study").objects.create(
        study_instance_uid="1.2.3.4.5", orthanc_id="move-1", patient_id="P-MOVE", modality="CT",
        arrived_at=SIGNED_AT, reading_state="reported")
    review = old.get_model("worklist", "FindingReview").objects.create(
        study_id=study.pk, decision="added", finding_type="nodule", diameter_mm=7.5, centre_mm=[1.0, -2.0, 30.5],
        note="missed by AI", reviewer_id=radiologist.pk)
    report = old.get_model("worklist", "Report").objects.create(study_id=study.pk)
    version = old.get_model("worklist", "ReportVersion").objects.create(
        report_id=report.pk, number=1, template="lungrads", fields={"category": "4A"}, text="IMPRESSION\n4A",
        reading_mode="concurrent", author_id=radiologist.pk, signed_at=SIGNED_AT, critical=True,
        override_reason="checked on another workstation", overridden=["images not viewed"])
    critical = old.get_model("worklist", "CriticalResult").objects.create(
        study_id=study.pk, report_version_id=version.pk, note="call the ward", flagged_by_id=radiologist.pk)
    escalation = old.get_model("clinician", "CriticalEscalation").objects.create(
        critical_result_id=critical.pk, escalated_at=SIGNED_AT, minutes_unacknowledged=75)
    prior = old.get_model("priors", "PriorReport").objects.create(
        patient_id="P-MOVE", study_date=date(2026, 11, 30), text="IMPRESSION\n4A", source="signed",
        study_id=study.pk, report_version_id=version.pk, mined_at=SIGNED_AT)
    # The database as it was before the move labels these content types worklist.
    old_types = {ct.model: ct.pk for ct in old.get_model("contenttypes", "ContentType").objects.filter(
        app_label="worklist", model__in=["findingreview", "report", "reportversion", "criticalresult"])}

    migrate(latest())

    moved_review = FindingReview.objects.get(pk=review.pk)
    assert (moved_review.study_id, moved_review.decision, moved_review.finding_type, moved_review.diameter_mm,
            moved_review.centre_mm, moved_review.note, moved_review.reviewer) == (
        study.pk, FindingDecision.ADDED, "nodule", 7.5, [1.0, -2.0, 30.5], "missed by AI", radiologist)
    moved_report = Report.objects.get(pk=report.pk)
    assert moved_report.study.pk == study.pk and moved_report.study.report == moved_report
    moved_version = ReportVersion.objects.get(pk=version.pk)
    assert (moved_version.report, moved_version.number, moved_version.template, moved_version.fields,
            moved_version.text, moved_version.signed_at, moved_version.critical, moved_version.override_reason,
            moved_version.overridden) == (moved_report, 1, "lungrads", {"category": "4A"}, "IMPRESSION\n4A",
                                          SIGNED_AT, True, "checked on another workstation", ["images not viewed"])
    assert list(moved_report.versions.all()) == [moved_version]
    moved_critical = CriticalResult.objects.get(pk=critical.pk)
    assert (moved_critical.report_version, moved_critical.note, moved_critical.flagged_by) == (
        moved_version, "call the ward", radiologist)
    assert list(moved_report.study.critical_results.all()) == [moved_critical]
    assert list(moved_report.study.finding_reviews.all()) == [moved_review]
    # The other apps' foreign keys resolve to reporting's models.
    assert CriticalEscalation.objects.get(pk=escalation.pk).critical_result == moved_critical
    assert moved_critical.escalation.minutes_unacknowledged == 75
    assert PriorReport.objects.get(pk=prior.pk).report_version == moved_version
    # Same content type rows (so the same permissions), now labelled reporting.
    assert len(old_types) == 4
    for model, pk in old_types.items():
        assert ContentType.objects.get(pk=pk).app_label == "reporting", model
    assert ContentType.objects.get_for_model(ReportVersion).pk == old_types["reportversion"]
    assert not ContentType.objects.filter(app_label="worklist", model__in=list(old_types)).exists()
