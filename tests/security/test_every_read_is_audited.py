"""Every read of patient data leaves an audit row naming who read what (issue 17: removing the audit
call from the report PDF, the reading page, findings and report reads went unnoticed).

One signed study, stored in the real Orthanc and ingested; each row below is one way to read it,
by the role that may. A read that answers without a new audit row for that user (and that study,
where the read is of one study) fails.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from clinician.services import referrer_link
from reporting.reading import report_sign
from tests.imaging.helpers import archive, ct_series
from tests.support.reading import ready_to_sign
from worklist.models import AuditEvent
from worklist.services import study_claim

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

REFERRER = "HADDAD^SAMIR"
R, C = Role.RADIOLOGIST, Role.CLINICIAN

# (name, role, url template, whether the audit row names the study). {study}, {series}, {slice},
# {report}, {uid}, {series_uid} are filled from the stored study.
READS = [
    ("reading page", R, "/studies/{study}/", True),
    ("worklist API", R, "/api/worklist/", False),
    ("study API", R, "/api/studies/{study}/", True),
    ("findings API", R, "/api/studies/{study}/findings/", True),
    ("report API", R, "/api/studies/{study}/report/", True),
    ("report PDF", R, "/api/studies/{study}/report/v1.pdf", True),
    ("series geometry", R, "/api/studies/{study}/series/{series}/geometry/", True),
    ("pixels", R, "/api/studies/{study}/series/{series}/pixels/?ids={slice}", True),
    ("overlays", R, "/api/studies/{study}/series/{series}/overlays/", True),
    ("priors", R, "/api/studies/{study}/priors/", True),
    ("DICOMweb search", R, "/dicom-web/studies", False),
    ("DICOMweb metadata", R, "/dicom-web/studies/{uid}/series/{series_uid}/metadata", True),
    ("clinician page", C, "/clinician/studies/{study}/", True),
    ("clinician study API", C, "/api/clinician/studies/{study}/", True),
    ("clinician study list", C, "/api/clinician/studies/", False),
    ("clinician report PDF", C, "/api/clinician/studies/{study}/report/v1.pdf", True),
    ("FHIR ImagingStudy read", C, "/fhir/ImagingStudy/{study}", True),
    ("FHIR ImagingStudy search", C, "/fhir/ImagingStudy?patient={patient}", False),
    ("FHIR DiagnosticReport read", C, "/fhir/DiagnosticReport/{report}", True),
    ("FHIR DiagnosticReport search", C, "/fhir/DiagnosticReport?patient={patient}", False),
]


@pytest.fixture
def signed(orthanc, make_user):
    datasets = ct_series(3)
    for ds in datasets:
        ds.ReferringPhysicianName = REFERRER
    study, series = archive(datasets)
    reader = make_user("reader", R)
    clinician = make_user("clin", C)
    referrer_link(user=clinician, referring_name=REFERRER, created_by=None)
    study_claim(study_id=study.pk, user=reader)
    ready_to_sign(study, reader)  # the reader viewed the images (the signing guard asks)
    version = report_sign(study_id=study.pk, user=reader,
                          fields={"impression": "No nodule.", "lungrads_category": "1", "findings_text": "Clear."})
    geometry = Client()
    geometry.force_login(reader)
    slice_id = geometry.get(f"/api/studies/{study.pk}/series/{series.pk}/geometry/").json()["slices"][0]["id"]
    values = {"study": study.pk, "series": series.pk, "slice": slice_id, "report": version.report_id,
              "uid": study.study_instance_uid, "series_uid": series.series_instance_uid, "patient": study.patient_id}
    return study, {R: reader, C: clinician}, values


@pytest.mark.parametrize(("name", "role", "url", "names_study"), READS, ids=[r[0] for r in READS])
def test_every_patient_data_read_is_audited(signed, name, role, url, names_study):
    study, users, values = signed
    user = users[role]
    client = Client()
    client.force_login(user)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url.format(**values))
    assert response.status_code == 200, (name, response.status_code)
    new = AuditEvent.objects.filter(id__gt=before, user=user)
    if names_study:
        new = new.filter(study=study)
    assert new.exists(), f"{name}: no audit row for {user.username}"
