"""A signed mammography report becomes a mined PriorReport the patient's later studies see."""

from datetime import UTC, datetime

import pytest
from django.test import TestCase

from priors.models import PriorReport
from priors.selectors import study_prior_reports
from reporting.models import Report, ReportVersion
from reporting.signals import report_signed_on_commit
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db

SIGNED_TEXT = ("MAMMOGRAPHY SCREENING BILATERAL\n\nFINDINGS\nBreast composition: c. Left breast: 11 mm irregular "
               "mass with spiculated margins.\n\nIMPRESSION\nBI-RADS 4C: high suspicion for malignancy.")


def sign(study, user, text, number=1):
    """What report_sign and report_amend do: a new version, created signed, and report_signed once
    the transaction commits (captureOnCommitCallbacks stands for the commit the test never makes)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        report, _ = Report.objects.get_or_create(study=study)
        version = ReportVersion.objects.create(report=report, number=number, template="birads", fields={}, text=text,
                                               reading_mode="concurrent", author=user, signed_at=datetime.now(UTC))
        report_signed_on_commit(version_id=version.pk, study_id=study.pk, amended=number > 1)
    return version


def test_signing_a_mammography_report_mines_it_into_a_prior(radiologist):
    study = make_study(modality="MG", body_part="BREAST", patient_id="P7", accession_number="MG-1",
                       study_datetime=datetime(2025, 3, 4, 9, tzinfo=UTC))
    version = sign(study, radiologist, SIGNED_TEXT)
    prior = PriorReport.objects.get()
    assert (prior.source, prior.study, prior.report_version, prior.patient_id) == ("signed", study, version, "P7")
    assert (prior.birads, prior.density, prior.laterality) == ("4C", "c", "left")
    assert str(prior.study_date) == "2025-03-04" and prior.accession_number == "MG-1"
    assert prior.features["features"][0]["descriptors"] == ["irregular", "spiculated"]


def test_an_amendment_replaces_the_mined_values_of_the_same_study(radiologist):
    study = make_study(modality="MG", body_part="BREAST", accession_number="MG-2")
    sign(study, radiologist, SIGNED_TEXT)
    sign(study, radiologist, SIGNED_TEXT.replace("BI-RADS 4C: high suspicion", "BI-RADS 3: probably benign"), 2)
    prior = PriorReport.objects.get()
    assert (prior.birads, prior.report_version.number) == ("3", 2)


def test_other_modalities_are_not_mined(radiologist):
    sign(make_study(modality="CT", body_part="CHEST"), radiologist, "Lung-RADS 2. BI-RADS 4 in the breast.")
    assert not PriorReport.objects.exists()


def test_a_later_study_of_the_same_patient_sees_the_signed_report(radiologist):
    earlier = make_study(modality="MG", body_part="BREAST", patient_id="P8", accession_number="MG-3",
                         study_datetime=datetime(2024, 1, 10, tzinfo=UTC))
    later = make_study(modality="MG", body_part="BREAST", patient_id="P8", accession_number="MG-4",
                       study_datetime=datetime(2025, 1, 10, tzinfo=UTC))
    sign(earlier, radiologist, SIGNED_TEXT)
    assert [p.study for p in study_prior_reports(study=later)] == [earlier]
    assert study_prior_reports(study=earlier) == []  # its own report is not its prior


def test_a_mining_failure_does_not_stop_the_signature(radiologist, monkeypatch):
    def broken(text):
        raise RuntimeError("miner bug")

    monkeypatch.setattr("priors.services.mine_mammography_report", broken)
    study = make_study(modality="MG", body_part="BREAST")
    version = sign(study, radiologist, SIGNED_TEXT)
    assert ReportVersion.objects.filter(pk=version.pk).exists() and not PriorReport.objects.exists()


@pytest.mark.parametrize(("category", "composition"), [
    ("0", "a"), ("1", "b"), ("2", "c"), ("3", "d"), ("4", "a"), ("4A", "b"), ("4B", "c"), ("4C", "d"), ("5", "c"),
    ("6", "b"),
])
def test_the_reports_this_application_signs_are_mined_to_what_the_reader_chose(api_as, radiologist, category,
                                                                             composition,
                                                                             django_capture_on_commit_callbacks):
    study = make_study(modality="MG", body_part="BREAST", study_description="MAMMOGRAPHY DIAGNOSTIC BILATERAL")
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    images_viewed(study, radiologist)
    with django_capture_on_commit_callbacks(execute=True):  # priors mines after the signature commits
        response = client.post(f"/api/studies/{study.pk}/report/sign/", {
            "findings_text": "Left breast: grouped amorphous calcifications. No mass.", "impression": "As below.",
            "birads_category": category, "breast_composition": composition}, format="json")
    assert response.status_code == 201, response.content
    prior = PriorReport.objects.get(study=study)
    assert (prior.birads, prior.density, prior.source) == (category, composition, "signed")
    assert [f["kind"] for f in prior.features["features"]] == ["calcifications"]


def test_a_report_both_signed_here_and_imported_is_shown_once_as_signed(radiologist):
    from datetime import date

    from priors.services import mined_fields

    earlier = make_study(modality="MG", body_part="BREAST", patient_id="P9", accession_number="MG-5",
                         study_datetime=datetime(2024, 1, 10, tzinfo=UTC))
    later = make_study(modality="MG", body_part="BREAST", patient_id="P9", accession_number="MG-6",
                       study_datetime=datetime(2025, 1, 10, tzinfo=UTC))
    sign(earlier, radiologist, SIGNED_TEXT)
    PriorReport.objects.create(patient_id="P9", accession_number="MG-5", study_date=date(2024, 1, 10),
                               text="BI-RADS 2.", source="imported", **mined_fields("BI-RADS 2."))
    PriorReport.objects.create(patient_id="P9", accession_number="MG-OLD", study_date=date(2022, 1, 10),
                               text="BI-RADS 1.", source="imported", **mined_fields("BI-RADS 1."))
    shown = study_prior_reports(study=later)
    assert [(p.accession_number, p.source, p.birads) for p in shown] == [("MG-5", "signed", "4C"),
                                                                       ("MG-OLD", "imported", "1")]
