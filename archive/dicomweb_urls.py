"""DICOMweb (PS3.18) below /dicom-web/, the same root as Orthanc's plugin (archive.dicomweb)."""

from django.urls import path, register_converter

from archive import dicomweb


class UidConverter:
    regex = r"[0-9.]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class BelowStudyConverter(UidConverter):
    """What may follow /studies/{uid}: series/instances (QIDO), metadata, retrieve, frames/<list>,
    bulk/<tag path>, rendered and thumbnail, as Orthanc's plugin names them; nothing else."""

    regex = (r"(?:/series(?:/[0-9.]{1,64}(?:/instances(?:/[0-9.]{1,64})?)?)?|/instances(?:/[0-9.]{1,64})?)?"
             r"(?:/metadata|/frames/\d{1,6}(?:,\d{1,6}){0,255}(?:/rendered)?|/bulk(?:/[0-9A-Za-z]{1,8}){1,16}"
             r"|/rendered|/thumbnail)?/?")


register_converter(UidConverter, "dicom_uid")
register_converter(BelowStudyConverter, "below_study")

urlpatterns = [
    path("studies", dicomweb.StudySearch.as_view(), name="dicomweb-studies"),
    path("studies/<dicom_uid:study><below_study:rest>", dicomweb.StudyResource.as_view(), name="dicomweb-study"),
]
