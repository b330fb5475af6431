from datetime import timedelta

from django.utils import timezone
from pydicom.uid import generate_uid

from worklist.models import Study
from worklist.services import study_prioritise


def make_study(**fields) -> Study:
    uid = generate_uid()
    values = {
        "study_instance_uid": uid,
        "orthanc_id": uid[-40:],
        "patient_id": "P1",
        "patient_name": "TEST^ONE",
        "modality": "CT",
        "body_part": "CHEST",
        "arrived_at": timezone.now() - timedelta(minutes=5),
        "requested_priority": "ROUTINE",
        "patient_location": "OUTPATIENT CLINIC",
    }
    values.update(fields)
    study = Study(**values)
    study_prioritise(study)
    study.save()
    return study
