"""Every kind of synthetic study is accepted by the real Orthanc and reaches the worklist intact."""

import pytest
from django.conf import settings

from inference.synthetic import STUDY_KINDS, generate_study
from inference.synthetic.sender import store_study
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Small sizes where the kind allows it: what is checked here is headers, not pixels.
SMALL = {"chest_ct": {"matrix": 128, "slices": 40}, "mammography": {"matrix": "small"},
         "prostate_mri": {"t2_matrix": 128, "dwi_matrix": 64, "slices": 12}}
EXPECTED = {
    "chest_ct": ("CT", "CHEST"), "mammography": ("MG", "BREAST"), "prostate_mri": ("MR", "PROSTATE"),
    "chest_xr": ("DX", "CHEST"), "head_ct": ("CT", "HEAD"), "knee_mri": ("MR", "KNEE"),
}
NON_LATIN = {"chest_ct": "王^秀英", "mammography": "Παπαδοπούλου^Ελένη", "prostate_mri": "Иванов^Сергей"}


def test_every_study_kind_reaches_the_worklist_with_its_order_and_patient_fields(orthanc, celery_worker):
    assert set(EXPECTED) == set(STUDY_KINDS)
    studies = {}
    for seed, kind in enumerate(STUDY_KINDS, start=11):
        study = generate_study(kind, seed=seed, **SMALL.get(kind, {}))
        if kind in NON_LATIN:
            for dataset in study.datasets:
                dataset.PatientName = NON_LATIN[kind]
        store_study(study, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                    called_aet=settings.ORTHANC_DICOM_AET)
        studies[kind] = study

    uids = [s.study_instance_uid for s in studies.values()]
    wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids).exclude(status="queued").count() == 6,
               timeout=60, what="all six kinds on the worklist")
    for kind, generated in studies.items():
        row = Study.objects.get(study_instance_uid=generated.study_instance_uid)
        truth = generated.truth
        assert (row.modality, row.body_part) == EXPECTED[kind], kind
        assert row.patient_id == truth["patient"]["patient_id"]
        assert row.patient_name == NON_LATIN.get(kind, truth["patient"]["name"]), kind
        assert row.patient_sex == truth["patient"]["sex"]
        assert row.patient_birth_date.strftime("%Y%m%d") == truth["patient"]["birth_date"]
        assert row.accession_number == truth["order"]["accession_number"]
        assert row.requested_priority == truth["order"]["priority"]
        assert row.patient_location == truth["order"]["patient_location"]
        assert row.referring_physician == truth["order"]["referring_physician"]
        assert row.instance_count == len(generated.datasets)
        assert row.series_count == len(truth["series"])
        assert row.urgency_code and row.priority_reason
