"""DICOMweb (PS3.18) below /dicom-web/, the same root as Orthanc's plugin (archive.dicomweb)."""

from django.urls import path, re_path

from archive import dicomweb

UID = r"[0-9.]{1,64}"
# Below a study: series/instances (QIDO), metadata, retrieve, frames/<list>, bulk/<tag path>,
# rendered and thumbnail, as Orthanc's plugin names them.
BELOW = r"(?:/series(?:/[0-9.]{1,64}(?:/instances(?:/[0-9.]{1,64})?)?)?|/instances(?:/[0-9.]{1,64})?)?" \
        r"(?:/metadata|/frames/\d{1,6}(?:,\d{1,6}){0,255}(?:/rendered)?|/bulk(?:/[0-9A-Za-z]{1,8}){1,16}" \
        r"|/rendered|/thumbnail)?"

urlpatterns = [
    path("studies", dicomweb.StudySearch.as_view(), name="dicomweb-studies"),
    re_path(rf"^studies/(?P<study>{UID})(?P<rest>{BELOW})/?$", dicomweb.StudyResource.as_view(),
            name="dicomweb-study"),
]
