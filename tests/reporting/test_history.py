"""Reported studies from the server: the worklist's "Reported" filter, paged, and each study's report history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reporting.models import Report, ReportVersion
from tests.worklist.factories import make_study
from worklist.models import AuditEvent, ReadingState

pytestmark = pytest.mark.django_db


def signed(study, author, *, minutes_ago: int, versions=("",)):
    study.reading_state = ReadingState.REPORTED
    study.reported_at, study.reported_by = timezone.now() - timedelta(minutes=minutes_ago), author
    study.save()
    report = Report.objects.create(study=study)
    for number, reason in enumerate(versions, 1):
        ReportVersion.objects.create(report=report, number=number, template="free", fields={}, text="x",
                                     reading_mode="concurrent", author=author,
                                     signed_at=timezone.now() - timedelta(minutes=minutes_ago - number),
                                     amendment_reason=reason)
    return study


def test_the_reported_filter_lists_signed_studies_latest_first_in_pages(api_as, radiologist):
    make_study(patient_name="OPEN^STUDY")
    older = signed(make_study(patient_name="OLD^ONE"), radiologist, minutes_ago=90)
    newer = signed(make_study(patient_name="NEW^ONE"), radiologist, minutes_ago=10)
    client = api_as(radiologist)
    first = client.get("/api/worklist/?reading_state=reported&limit=1").json()
    assert first["count"] == 2 and [s["id"] for s in first["results"]] == [newer.pk]
    second = client.get("/api/worklist/?reading_state=reported&limit=1&offset=1").json()
    assert [s["id"] for s in second["results"]] == [older.pk]
    # The open worklist still leaves them out.
    assert {s["patient_name"] for s in client.get("/api/worklist/").json()["results"]} == {"OPEN^STUDY"}


def test_the_history_says_who_signed_each_version_when_and_why(api_as, radiologist, other_radiologist, manager):
    other_radiologist.first_name, other_radiologist.last_name = "Ravi", "Rao"
    other_radiologist.save()
    study = signed(make_study(), other_radiologist, minutes_ago=30, versions=("", "laterality corrected"))
    history = api_as(manager).get(f"/api/studies/{study.pk}/report/history/").json()
    assert history["count"] == 2
    latest, first = history["results"]
    assert (latest["number"], latest["reason"], latest["author"], latest["author_name"]) == (
        2, "laterality corrected", "ravi", "Ravi Rao")
    assert (first["number"], first["reason"]) == (1, "first report")
    assert latest["pdf"] == f"/api/studies/{study.pk}/report/v2.pdf"
    assert AuditEvent.objects.filter(action="report.history", study=study, user=manager).exists()


def test_the_history_is_paged_and_empty_before_signing(api_as, radiologist, clinician):
    study = signed(make_study(), radiologist, minutes_ago=60, versions=("",) + tuple(f"fix {n}" for n in range(2, 13)))
    client = api_as(radiologist)
    page = client.get(f"/api/studies/{study.pk}/report/history/?limit=5&offset=5").json()
    assert page["count"] == 12 and [v["number"] for v in page["results"]] == [7, 6, 5, 4, 3]
    assert client.get(f"/api/studies/{make_study().pk}/report/history/").json() == {
        "count": 0, "next": None, "previous": None, "results": []}
    assert api_as(clinician).get(f"/api/studies/{study.pk}/report/history/").status_code == 403


def test_an_absurd_offset_is_past_the_end_not_a_server_error(api_as, radiologist):
    study = signed(make_study(), radiologist, minutes_ago=5)
    response = api_as(radiologist).get(f"/api/studies/{study.pk}/report/history/?offset=99999999999999999999")
    assert response.status_code == 200 and response.json()["results"] == []


def test_the_history_shows_a_signature_given_over_the_guard_and_what_it_overrode(api_as, radiologist):
    study = signed(make_study(), radiologist, minutes_ago=20)
    ReportVersion.objects.filter(report__study=study).update(
        override_reason="images reviewed on the CT console", overridden=["The viewer could not show the images."])
    [entry] = api_as(radiologist).get(f"/api/studies/{study.pk}/report/history/").json()["results"]
    assert entry["override_reason"] == "images reviewed on the CT console"
    assert entry["overridden"] == ["The viewer could not show the images."]
