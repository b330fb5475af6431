"""Wrong-patient merges (issue 17, IHE PIR): a reused StudyInstanceUID or SeriesInstanceUID sent over
real C-STORE to a real Orthanc never moves a signed, clinician-linked study to another patient."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from clinician.dicomweb_access import StudyAccess
from clinician.selectors import clinician_studies
from clinician.services import referrer_link
from reporting.reading import report_sign
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.orthanc_admin import admin_delete
from tests.support.processes import wait_until
from tests.support.reading import ready_to_sign
from worklist.ingest import orthanc_changes_follow
from worklist.models import Alert, IdentityState, ReadingState, Series, Study
from worklist.services import StudyNotClaimable, study_claim

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REFERRER_A, REFERRER_B = "HADDAD^SAMIR", "CHEN^WEI"


def send(datasets):
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def referred(datasets, referrer: str):
    for ds in datasets:
        ds.ReferringPhysicianName = referrer
    return datasets


def ingested(accession: str) -> Study:
    """Follow the change feed (as the beat task does) until Orthanc called the study stable."""

    def arrived():
        orthanc_changes_follow()
        return Study.objects.filter(accession_number=accession).first()

    return wait_until(arrived, timeout=30, what=f"study {accession} to be ingested")


@pytest.fixture
def signed_study_a(orthanc, radiologist, make_user):
    """Patient A's study, signed by a radiologist, its referrer linked to clinician A."""
    clinician_a = make_user("clara", Role.CLINICIAN)
    referrer_link(user=clinician_a, referring_name=REFERRER_A, created_by=None)
    clinician_b = make_user("bruno", Role.CLINICIAN)
    referrer_link(user=clinician_b, referring_name=REFERRER_B, created_by=None)
    datasets = referred(tiny_ct_study(patient_id="PA-1", patient_name="ALPHA^ANNA", accession="ACC-A"), REFERRER_A)
    send(datasets)
    study = ingested("ACC-A")
    study_claim(study_id=study.pk, user=radiologist)
    ready_to_sign(study, radiologist)  # the reader viewed the images (the signing guard asks)
    report_sign(study_id=study.pk, user=radiologist,
                fields={"impression": "No nodule.", "lungrads_category": "1", "findings_text": "Clear lungs."})
    study.refresh_from_db()
    assert study.reading_state == ReadingState.REPORTED and clinician_studies(clinician_a).filter(pk=study.pk)
    before = {"orthanc_id": study.orthanc_id, "patient_id": "PA-1", "patient_name": "ALPHA^ANNA",
              "referring_physician": REFERRER_A, "accession_number": "ACC-A",
              "series": sorted(study.series.values_list("orthanc_id", "series_instance_uid"))}
    return study, datasets, before, clinician_a, clinician_b


def assert_nothing_moved(study_a: Study, before: dict):
    study_a.refresh_from_db()
    assert {"orthanc_id": study_a.orthanc_id, "patient_id": study_a.patient_id, "patient_name": study_a.patient_name,
            "referring_physician": study_a.referring_physician, "accession_number": study_a.accession_number,
            "series": sorted(study_a.series.values_list("orthanc_id", "series_instance_uid"))} == before
    assert study_a.reading_state == ReadingState.REPORTED and study_a.report.versions.count() == 1
    assert study_a.identity_state == IdentityState.OK


def assert_held(arrival: Study, study_a: Study, reason_part: str, manager, api_as, clinician_a, clinician_b,
                radiologist):
    assert arrival.pk != study_a.pk
    assert arrival.identity_state == IdentityState.CONFLICT
    assert reason_part in arrival.identity_reason and arrival.identity_conflict_with_id == study_a.pk
    assert not hasattr(arrival, "report") and arrival.analysis_generation == 0 and not arrival.analyses.exists()
    assert Alert.objects.filter(kind=Alert.Kind.IDENTITY_CONFLICT, study=arrival, acknowledged_at=None).exists()
    listed = api_as(manager).get("/api/identity-conflicts/")
    assert listed.status_code == 200
    assert [(c["id"], c["conflict_with"]["id"]) for c in listed.json()] == [(arrival.pk, study_a.pk)]
    assert api_as(radiologist).get("/api/identity-conflicts/").status_code == 403
    # Clinician A keeps their own patient and never sees the arrival; B sees neither while it is held.
    assert set(clinician_studies(clinician_a).values_list("pk", flat=True)) == {study_a.pk}
    assert api_as(clinician_a).get(f"/api/clinician/studies/{arrival.pk}/").status_code == 404
    assert not clinician_studies(clinician_b).exists()
    with pytest.raises(StudyNotClaimable):
        study_claim(study_id=arrival.pk, user=radiologist)
    # Manager page shows it, with the reason.
    browser = Client()
    browser.force_login(manager)
    page = browser.get("/manager/identity/")
    assert page.status_code == 200 and reason_part in page.content.decode()


def test_same_study_uid_with_another_patient_id_is_held_not_merged(signed_study_a, manager, api_as, radiologist):
    study_a, datasets_a, before, clinician_a, clinician_b = signed_study_a
    uid = datasets_a[0].StudyInstanceUID
    send(referred(tiny_ct_study(patient_id="PB-1", patient_name="BRAVO^BEN", accession="ACC-B", study_uid=uid),
                  REFERRER_B))
    arrival = ingested("ACC-B")

    assert_nothing_moved(study_a, before)
    assert Study.objects.filter(study_instance_uid=uid).count() == 2
    assert arrival.patient_id == "PB-1" and arrival.study_instance_uid == uid
    assert_held(arrival, study_a, f"StudyInstanceUID {uid}", manager, api_as, clinician_a, clinician_b, radiologist)
    # DICOMweb addresses studies by UID alone: the shared UID would hand clinician A both patients.
    assert not StudyAccess().may_read_study(clinician_a, uid)
    assert uid not in StudyAccess().visible_study_uids(clinician_a)

    # "Same patient" is refused while Orthanc still holds the arrival under patient PB-1.
    refused = api_as(manager).post(f"/api/studies/{arrival.pk}/identity/resolve/", {"decision": "same_patient"})
    assert refused.status_code == 409 and "correct the patient in Orthanc" in refused.json()["detail"]
    kept = api_as(manager).post(f"/api/studies/{arrival.pk}/identity/resolve/",
                                {"decision": "keep_apart", "note": "two patients"})
    assert kept.status_code == 200 and kept.json()["identity_state"] == "kept_apart"
    arrival.refresh_from_db()
    assert arrival.analysis_generation == 1  # released: now analysed like any study
    assert not Alert.objects.filter(study=arrival, acknowledged_at=None).exists()
    assert api_as(manager).get("/api/identity-conflicts/").json() == []
    assert_nothing_moved(study_a, before)
    # Kept apart, B's clinician now sees B's study, A's clinician still only A's.
    assert set(clinician_studies(clinician_b).values_list("pk", flat=True)) == {arrival.pk}
    assert set(clinician_studies(clinician_a).values_list("pk", flat=True)) == {study_a.pk}


def test_same_series_uid_in_another_study_is_held_not_taken_over(signed_study_a, manager, api_as, radiologist):
    study_a, datasets_a, before, clinician_a, clinician_b = signed_study_a
    series_uid = datasets_a[0].SeriesInstanceUID
    other = referred(tiny_ct_study(patient_id="PB-1", patient_name="BRAVO^BEN", accession="ACC-C"), REFERRER_B)
    for ds in other:
        ds.SeriesInstanceUID = series_uid
    send(other)
    arrival = ingested("ACC-C")

    assert_nothing_moved(study_a, before)
    assert Series.objects.filter(series_instance_uid=series_uid).count() == 2
    assert arrival.series.get().series_instance_uid == series_uid
    assert_held(arrival, study_a, f"SeriesInstanceUID {series_uid}", manager, api_as, clinician_a, clinician_b,
                radiologist)

    # Corrected in the archive (here: the wrong images removed), "same patient" closes the entry.
    admin_delete(f"studies/{arrival.orthanc_id}")
    merged = api_as(manager).post(f"/api/studies/{arrival.pk}/identity/resolve/", {"decision": "same_patient"})
    assert merged.status_code == 200 and merged.json()["identity_state"] == "merged"
    listed = [r["id"] for r in api_as(radiologist).get("/api/worklist/", {"include_reported": True}).json()["results"]]
    assert study_a.pk in listed and arrival.pk not in listed
    assert_nothing_moved(study_a, before)
