"""FHIR R4 resources built from the worklist's studies and signed reports (JSON, as plain dicts).

Only elements common to FHIR R4 (4.0.1) and R4B (4.3.0) are used; tests validate the output with
the `fhir.resources` R4B models and check the required elements and codes named below.
"""

from __future__ import annotations

import base64
import hashlib
import re

from clinician.selectors import person_display, study_versions, user_display
from reporting.models import ReportVersion
from reporting.pdf import report_pdf
from worklist.models import Study

FHIR_VERSION = "4.0.1"
FHIR_CONTENT_TYPE = "application/fhir+json"
DICOM_UID_SYSTEM = "urn:dicom:uid"
DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM"
LOINC = "http://loinc.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
# Identifier systems of this installation (a deployment would use its own OIDs or URLs).
PATIENT_ID_SYSTEM = "urn:triage-worklist:patient-id"
ACCESSION_SYSTEM = "urn:triage-worklist:accession"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# DICOM modality codes (PS3.16 CID 29) the synthetic studies use; others are sent without a display.
MODALITY_NAMES = {
    "CT": "Computed Tomography", "MR": "Magnetic Resonance", "CR": "Computed Radiography",
    "DX": "Digital Radiography", "MG": "Mammography", "US": "Ultrasound", "PT": "Positron emission tomography",
    "NM": "Nuclear Medicine", "XA": "X-Ray Angiography", "SR": "SR Document", "SEG": "Segmentation",
    "KO": "Key Object Selection", "PR": "Presentation State", "DOC": "Document",
}


def _instant(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _modality(code: str) -> dict:
    coding = {"system": DICOM_DCM, "code": code}
    if code in MODALITY_NAMES:
        coding["display"] = MODALITY_NAMES[code]
    return coding


def patient_reference(study: Study) -> dict:
    """The subject: a logical reference by the hospital patient ID, literal too when it is a valid FHIR id."""
    reference = {
        "identifier": {"system": PATIENT_ID_SYSTEM, "value": study.patient_id or "unknown"},
        "display": person_display(study.patient_name) or "unknown",
    }
    if study.patient_id and FHIR_ID.match(study.patient_id):
        reference = {"reference": f"Patient/{study.patient_id}", **reference}
    return reference


def imaging_study(study: Study) -> dict:
    modalities = [m for m in (study.modalities or study.modality).split("\\") if m] or (
        [study.modality] if study.modality else [])
    identifiers = [{"use": "official", "system": DICOM_UID_SYSTEM, "value": f"urn:oid:{study.study_instance_uid}"}]
    if study.accession_number:
        identifiers.append({
            "use": "usual",
            "type": {"coding": [{"system": V2_0203, "code": "ACSN", "display": "Accession ID"}]},
            "system": ACCESSION_SYSTEM, "value": study.accession_number,
        })
    resource = {
        "resourceType": "ImagingStudy",
        "id": str(study.pk),
        "identifier": identifiers,
        # Every study here has images in the archive: it is known from Orthanc's stable-study event.
        "status": "available",
        "modality": [_modality(m) for m in dict.fromkeys(modalities)],
        "subject": patient_reference(study),
        "started": _instant(study.study_datetime or study.arrived_at),
        "numberOfSeries": study.series_count,
        "numberOfInstances": study.instance_count,
    }
    if study.referring_physician:
        resource["referrer"] = {"display": person_display(study.referring_physician)}
    if study.study_description:
        resource["description"] = study.study_description
    series = [
        {
            "uid": s.series_instance_uid,
            **({"number": s.series_number} if s.series_number is not None and s.series_number >= 0 else {}),
            "modality": _modality(s.modality or study.modality or "OT"),
            **({"description": s.description} if s.description else {}),
            "numberOfInstances": s.instance_count,
        }
        for s in study.series.all()
    ]
    if series:
        resource["series"] = series
    return resource


def diagnostic_report(study: Study, version: ReportVersion | None = None, *, with_pdf: bool = True) -> dict:
    """The signed report: `final` with one version, `amended` once a later version replaced it."""
    versions = study_versions(study)
    if not versions:
        raise ValueError("study has no signed report")
    version = version or versions[-1]
    report = {
        "resourceType": "DiagnosticReport",
        "id": str(study.report.pk),
        "status": "amended" if version.number > 1 else "final",
        "category": [{"coding": [{"system": V2_0074, "code": "RAD", "display": "Radiology"}]}],
        "code": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}],
                 "text": study.study_description or f"{study.modality} study"},
        "subject": patient_reference(study),
        "effectiveDateTime": _instant(study.study_datetime or study.arrived_at),
        "issued": _instant(version.signed_at),
        "resultsInterpreter": [{"display": user_display(version.author)}],
        "imagingStudy": [{"reference": f"ImagingStudy/{study.pk}"}],
        "conclusion": (version.fields or {}).get("impression", "") or version.text[:1000],
    }
    if study.accession_number:
        report["identifier"] = [{
            "type": {"coding": [{"system": V2_0203, "code": "ACSN", "display": "Accession ID"}]},
            "system": ACCESSION_SYSTEM, "value": study.accession_number,
        }]
    if with_pdf:
        pdf = report_pdf(version)
        report["presentedForm"] = [{
            "contentType": "application/pdf",
            "data": base64.b64encode(pdf).decode("ascii"),
            "size": len(pdf),
            "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324 - FHIR defines SHA-1
            "title": f"Radiology report, version {version.number}",
            "creation": _instant(version.signed_at),
        }]
    return report


def searchset(resources: list[dict], *, self_url: str, base_url: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]}


SEARCH_PARAMS = {
    "ImagingStudy": {
        "patient": ("reference", "The patient's hospital ID (Patient/<id> or <id>)"),
        "accession": ("token", "Accession number (also accepted as identifier)"),
        "identifier": ("token", "Accession number, or the StudyInstanceUID as urn:oid:<uid>"),
        "_id": ("token", "Resource id"),
    },
    "DiagnosticReport": {
        "patient": ("reference", "The patient's hospital ID (Patient/<id> or <id>)"),
        "accession": ("token", "Accession number of the imaging study"),
        "identifier": ("token", "Accession number"),
        "_id": ("token", "Resource id"),
    },
}


def capability_statement(*, base_url: str, software_version: str, date: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "Radiology AI triage worklist", "version": software_version},
        "implementation": {"description": "Read-only imaging studies and signed radiology reports "
                                          "(synthetic data, not for clinical use)", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": False,
                "description": "Session or token authentication (Authorization: Token <key>). A referring "
                               "clinician sees only their own patients; radiologists and managers the department.",
            },
            "resource": [
                {
                    "type": resource_type,
                    "interaction": [{"code": "read"}, {"code": "search-type"}],
                    "searchParam": [{"name": name, "type": kind, "documentation": doc}
                                    for name, (kind, doc) in params.items()],
                }
                for resource_type, params in SEARCH_PARAMS.items()
            ],
        }],
    }
