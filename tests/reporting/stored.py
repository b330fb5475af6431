"""A study stored in the real Orthanc over its REST API, with the worklist rows pointing at it."""

import io

from pydicom.filewriter import dcmwrite

from archive import orthanc as archive
from tests.support.dicom import tiny_ct_study
from tests.worklist.factories import make_study
from worklist.models import Series


def stored_ct(patient_id: str, accession: str, *, slices: int = 4, **study_fields):
    """(study, series, Orthanc instance ids in slice order)."""
    instances = []
    for ds in tiny_ct_study(patient_id=patient_id, accession=accession, slices=slices):
        buffer = io.BytesIO()
        dcmwrite(buffer, ds, enforce_file_format=True)
        instances.append(archive.post_instance(buffer.getvalue()))
    study = make_study(study_instance_uid=str(ds.StudyInstanceUID), orthanc_id=instances[0]["ParentStudy"],
                       patient_id=patient_id, accession_number=accession,
                       **{"study_description": "CT CHEST LOW DOSE", **study_fields})
    series = Series.objects.create(study=study, series_instance_uid=str(ds.SeriesInstanceUID),
                                   orthanc_id=instances[0]["ParentSeries"], modality="CT", instance_count=slices,
                                   description="Axial 1.0", series_number=1)
    return study, series, [i["ID"] for i in instances]
