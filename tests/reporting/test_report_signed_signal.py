"""Signing (and amending) a report tells the apps above reporting through `report_signed`, after commit.

The signature goes through the real service (reporting.reading.report_sign / report_amend). In these
tests the database transaction never commits, so django's captureOnCommitCallbacks stands for the
commit: what is sent before it would be sent from inside a transaction that may still roll back.
"""

import pytest
from django.db import transaction

from inference.models import AnalysisRun, AnalysisStatus
from priors.models import PriorReport
from reporting.models import ReportVersion
from reporting.reading import ReadingError, report_amend, report_sign
from reporting.signals import report_signed
from tests.support.reading import images_viewed, ready_to_sign
from tests.worklist.factories import make_study
from worklist.services import study_claim

pytestmark = pytest.mark.django_db

LUNG_PAYLOAD = {"impression": "Suspicious nodule.", "lungrads_category": "4A", "findings_text": "Right upper lobe."}


@pytest.fixture
def heard():
    """What report_signed's receivers were told, in order."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs["version_id"], kwargs["study_id"], kwargs["amended"]))

    report_signed.connect(receiver, weak=False, dispatch_uid="test-report-signed-heard")
    yield calls
    report_signed.disconnect(dispatch_uid="test-report-signed-heard")


@pytest.fixture
def claimed_ct(radiologist):
    study = make_study(study_description="CT CHEST LOW DOSE", status="analysed")
    AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1", status=AnalysisStatus.DONE,
                               category="lungrads:4A", suspicion=0.94, result={"findings": [
                                   {"centre_mm": [-60.0, 10.0, -120.0], "diameter_mm": 11.2, "type": "solid",
                                    "probability": 0.94}]})
    study_claim(study_id=study.pk, user=radiologist)
    ready_to_sign(study, radiologist)
    return study


def test_signing_sends_report_signed_only_after_commit(radiologist, claimed_ct, heard,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        version = report_sign(study_id=claimed_ct.pk, user=radiologist, fields=LUNG_PAYLOAD)
    assert heard == []  # signed, not yet committed: nobody told
    for callback in callbacks:
        callback()  # the commit
    assert heard == [(ReportVersion, version.pk, claimed_ct.pk, False)]


def test_an_amendment_sends_report_signed_as_amended(radiologist, claimed_ct, heard,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = report_sign(study_id=claimed_ct.pk, user=radiologist, fields=LUNG_PAYLOAD)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = report_amend(study_id=claimed_ct.pk, user=radiologist, reason="size corrected",
                              fields={**LUNG_PAYLOAD, "impression": "Nodule is 12 mm."})
    assert heard == [(ReportVersion, first.pk, claimed_ct.pk, False)]
    for callback in callbacks:
        callback()
    assert heard[1:] == [(ReportVersion, second.pk, claimed_ct.pk, True)]


def test_a_signature_that_rolls_back_sends_nothing(radiologist, claimed_ct, heard,
                                                   django_capture_on_commit_callbacks):
    # Signed inside a larger transaction that then fails: the signature never happened.
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            report_sign(study_id=claimed_ct.pk, user=radiologist, fields=LUNG_PAYLOAD)
            raise RuntimeError("the enclosing transaction fails after the signature")
    assert heard == [] and not ReportVersion.objects.exists()


def test_a_refused_signature_sends_nothing(radiologist, claimed_ct, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ReadingError, match="needs a note"):
            report_sign(study_id=claimed_ct.pk, user=radiologist, fields=LUNG_PAYLOAD, critical=True)
    assert heard == [] and not ReportVersion.objects.exists()


def test_a_failing_receiver_neither_stops_the_others_nor_the_signature(radiologist, claimed_ct, heard,
                                                                        django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise RuntimeError("receiver bug")

    report_signed.connect(broken, weak=False, dispatch_uid="test-report-signed-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            version = report_sign(study_id=claimed_ct.pk, user=radiologist, fields=LUNG_PAYLOAD)
    finally:
        report_signed.disconnect(dispatch_uid="test-report-signed-broken")
    assert heard == [(ReportVersion, version.pk, claimed_ct.pk, False)]


def test_a_signed_mammogram_is_mined_into_a_prior_after_commit(api_as, radiologist,
                                                               django_capture_on_commit_callbacks):
    study = make_study(modality="MG", body_part="BREAST", study_description="MAMMOGRAPHY DIAGNOSTIC BILATERAL")
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    images_viewed(study, radiologist)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/api/studies/{study.pk}/report/sign/", {
            "findings_text": "Left breast: 11 mm irregular mass with spiculated margins.", "impression": "As below.",
            "birads_category": "4C", "breast_composition": "c"}, format="json")
    assert response.status_code == 201, response.content
    assert not PriorReport.objects.exists()
    for callback in callbacks:
        callback()
    prior = PriorReport.objects.get(study=study)
    assert (prior.source, prior.birads, prior.report_version) == ("signed", "4C", ReportVersion.objects.get())
