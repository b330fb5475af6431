"""FHIR resources validate with fhir.resources (R4B models: R4's ImagingStudy and DiagnosticReport
are unchanged in R4B) and carry the required elements and codes of FHIR R4."""

import base64

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.clinician.conftest import sign
from worklist.models import Series

pytestmark = pytest.mark.django_db

# Required bindings in FHIR R4: the model library checks structure and types, these the codes.
IMAGING_STUDY_STATUS = {"registered", "available", "cancelled", "entered-in-error", "unknown"}
REPORT_STATUS = {"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled",
                 "entered-in-error", "unknown"}
DCM = "http://dicom.nema.org/resources/ontology/DCM"
SERIES_UID = "1.2.826.0.1.3680043.8.498.1.2.3"


@pytest.fixture
def with_series(signed_a):
    Series.objects.create(study=signed_a, series_instance_uid=SERIES_UID, orthanc_id="s1",
                          modality="CR", series_number=1, description="PA", instance_count=1)
    return signed_a


def fhir_get(client, path, params=None):
    response = client.get(path, params or {}, HTTP_ACCEPT="application/fhir+json")
    assert response["Content-Type"].startswith("application/fhir+json")
    return response


def test_imaging_study_validates_and_has_the_r4_essentials(api_as, clinician_a, with_series):
    data = fhir_get(api_as(clinician_a), f"/fhir/ImagingStudy/{with_series.pk}").json()
    ImagingStudy.model_validate(data)
    assert data["status"] in IMAGING_STUDY_STATUS
    assert data["subject"]["reference"] == "Patient/PA-1"
    assert {"system": "urn:dicom:uid", "value": f"urn:oid:{with_series.study_instance_uid}", "use": "official"} \
        in data["identifier"]
    accession = next(i for i in data["identifier"] if i.get("type"))
    assert accession["type"]["coding"][0]["code"] == "ACSN" and accession["value"] == "ACC-A1"
    assert data["modality"] == [{"system": DCM, "code": "CR", "display": "Computed Radiography"}]
    series = data["series"][0]
    assert series["uid"] == SERIES_UID
    assert series["modality"]["system"] == DCM and series["modality"]["code"] == "CR"


def test_diagnostic_report_validates_with_code_pdf_and_study(api_as, clinician_a, with_series):
    data = fhir_get(api_as(clinician_a), f"/fhir/DiagnosticReport/{with_series.report.pk}").json()
    DiagnosticReport.model_validate(data)
    assert data["status"] == "final" and data["status"] in REPORT_STATUS
    assert data["code"]["coding"][0] == {"system": "http://loinc.org", "code": "18748-4",
                                         "display": "Diagnostic imaging study"}
    assert data["imagingStudy"] == [{"reference": f"ImagingStudy/{with_series.pk}"}]
    assert data["subject"]["reference"] == "Patient/PA-1"
    form = data["presentedForm"][0]
    assert form["contentType"] == "application/pdf"
    pdf = base64.b64decode(form["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) == form["size"]
    assert data["conclusion"] == "Pneumothorax."


def test_an_amended_report_is_amended(api_as, clinician_a, radiologist, study_a):
    from reporting.reading import report_amend

    sign(study_a, radiologist)
    report_amend(study_id=study_a.pk, user=radiologist, fields={"impression": "Small pneumothorax."},
                 reason="size corrected")
    data = fhir_get(api_as(clinician_a), f"/fhir/DiagnosticReport/{study_a.report.pk}").json()
    DiagnosticReport.model_validate(data)
    assert data["status"] == "amended" and data["conclusion"] == "Small pneumothorax."


def test_search_bundles_validate(api_as, clinician_a, with_series):
    client = api_as(clinician_a)
    for path, params in (("/fhir/ImagingStudy", {"patient": "PA-1"}), ("/fhir/ImagingStudy", {"accession": "ACC-A1"}),
                         ("/fhir/DiagnosticReport", {"patient": "Patient/PA-1"}),
                         ("/fhir/DiagnosticReport", {"accession": "ACC-A1"})):
        bundle = fhir_get(client, path, params).json()
        Bundle.model_validate(bundle)  # validates each entry's resource too
        assert bundle["type"] == "searchset" and bundle["total"] == 1
        assert bundle["entry"][0]["search"] == {"mode": "match"}


def test_imaging_study_search_by_study_uid(api_as, clinician_a, with_series):
    bundle = api_as(clinician_a).get("/fhir/ImagingStudy",
                                     {"identifier": f"urn:dicom:uid|urn:oid:{with_series.study_instance_uid}"}).json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(with_series.pk)]


def test_errors_are_operation_outcomes(api_as, clinician_a, signed_a):
    client = api_as(clinician_a)
    for path, params, status in (("/fhir/ImagingStudy/987654", {}, 404), ("/fhir/ImagingStudy", {"name": "x"}, 400),
                                 ("/fhir/ImagingStudy", {"_format": "xml"}, 406), ("/fhir/Patient/1", {}, 404)):
        response = fhir_get(client, path, params)
        assert response.status_code == status
        OperationOutcome.model_validate(response.json())


def test_capability_statement_validates_and_declares_r4(client):
    data = fhir_get(client, "/fhir/metadata").json()
    CapabilityStatement.model_validate(data)
    assert data["fhirVersion"] == "4.0.1" and data["kind"] == "instance" and data["format"] == ["json"]
    resources = {r["type"]: r for r in data["rest"][0]["resource"]}
    assert set(resources) == {"ImagingStudy", "DiagnosticReport"}
    assert {p["name"] for p in resources["ImagingStudy"]["searchParam"]} >= {"patient", "accession", "identifier"}


def test_department_staff_read_every_study(api_as, radiologist, signed_a):
    assert api_as(radiologist).get(f"/fhir/ImagingStudy/{signed_a.pk}").status_code == 200
