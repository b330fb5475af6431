"""Patient, order and UID factories, and the header modules every series shares.

Everything here is drawn from a numpy Generator so a seed fixes the whole study.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

INSTITUTION = "SYNTHETIC GENERAL HOSPITAL"
MANUFACTURER = "SYNTHETICA"

# Fixed roster so clinician accounts can be mapped to the ReferringPhysicianName they order under.
REFERRING_PHYSICIANS: tuple[str, ...] = (
    "Okafor^Chidi^^Dr",
    "Lindqvist^Maria^^Dr",
    "Chen^Wei^^Dr",
    "Haddad^Samir^^Dr",
    "Novak^Petra^^Dr",
    "Brown^Alice^^Dr",
)

PRIORITIES: tuple[str, ...] = ("STAT", "HIGH", "ROUTINE", "MEDIUM", "LOW")
URGENT_PRIORITIES: frozenset[str] = frozenset({"STAT", "HIGH"})

LOCATION_ED = "EMERGENCY DEPT"
LOCATION_INPATIENT = "WARD 5 (INPATIENT)"
LOCATION_ICU = "ICU (INPATIENT)"
LOCATION_OUTPATIENT = "OUTPATIENT CLINIC"
LOCATION_SCREENING = "SCREENING CENTRE"

# Names in a mix of scripts, drawn as a family name and a given name of one culture so that a
# simulated department rarely gives two patients the same name (a fixed roster of 18 whole names
# did, four times in a day). Chinese names carry the alphabetic=ideographic component groups as
# Chinese PACS do: (alphabetic, ideographic).
_CULTURES: tuple[dict, ...] = (
    {"family": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans"],
     "M": ["John", "David", "Michael", "Peter"], "F": ["Mary", "Sarah", "Helen", "Emma"]},
    {"family": [("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Chen", "陈"), ("Liu", "刘")],
     "M": [("Wei", "伟"), ("Qiang", "强"), ("Jun", "军")], "F": [("Na", "娜"), ("Min", "敏"), ("Fang", "芳")]},
    {"family_by_sex": {"M": ["Παπαδόπουλος", "Οικονόμου", "Γεωργίου"], "F": ["Παπαδοπούλου", "Οικονόμου", "Γεωργίου"]},
     "M": ["Γιώργος", "Νίκος", "Δημήτρης"], "F": ["Ελένη", "Μαρία", "Σοφία"]},
    {"family_by_sex": {"M": ["Иванов", "Смирнов", "Кузнецов"], "F": ["Иванова", "Смирнова", "Кузнецова"]},
     "M": ["Сергей", "Алексей", "Дмитрий"], "F": ["Анна", "Ольга", "Татьяна"]},
    {"family": ["Müller", "Schäfer", "Weiß", "Groß"],
     "M": ["Jürgen", "Jörg", "Stefan"], "F": ["Käthe", "Anja", "Sabine"]},
    {"family": ["García", "Fernández", "Núñez", "Muñoz"],
     "M": ["José", "Ángel", "Raúl"], "F": ["María", "Lucía", "Inés"]},
    {"family": ["Lefèvre", "Dubois", "Girard", "Moreau"],
     "M": ["François", "Jérôme", "Luc"], "F": ["Amélie", "Hélène", "Zoé"]},
    {"family": ["Øster", "Sørensen", "Nielsen", "Jørgensen"],
     "M": ["Søren", "Mads", "Lars"], "F": ["Bodil", "Signe", "Astrid"]},
    {"family_by_sex": {"M": ["Nowak", "Kowalski", "Wiśniewski"], "F": ["Nowak", "Kowalska", "Wiśniewska"]},
     "M": ["Piotr", "Łukasz", "Paweł"], "F": ["Łucja", "Agnieszka", "Małgorzata"]},
    {"family": ["O'Brien", "Murphy", "Ó Súilleabháin", "Kelly"], "M": ["Seán", "Cian", "Pádraig"],
     "F": ["Siobhán", "Aoife", "Niamh"]},
    {"family": ["Okonkwo", "Adeyemi", "Okafor", "Balogun"],
     "M": ["Emeka", "Chinedu", "Tunde"], "F": ["Ngozi", "Adaeze", "Funmi"]},
    {"family": ["Tanaka", "Suzuki", "Sato", "Takahashi"],
     "M": ["Hiroshi", "Kenji", "Takeshi"], "F": ["Yuki", "Aiko", "Haruka"]},
)


def patient_name(rng: np.random.Generator, sex: str) -> str:
    """A DICOM person name (Family^Given, with an ideographic group where the culture has one)."""
    culture = _CULTURES[int(rng.integers(len(_CULTURES)))]
    families = culture["family_by_sex"][sex] if "family_by_sex" in culture else culture["family"]
    family = families[int(rng.integers(len(families)))]
    given = culture[sex][int(rng.integers(len(culture[sex])))]
    if isinstance(family, tuple):
        return f"{family[0]}^{given[0]}={family[1]}^{given[1]}"
    return f"{family}^{given}"


@dataclass(frozen=True)
class Patient:
    patient_id: str
    name: str
    birth_date: str  # YYYYMMDD
    sex: str  # M | F
    age_years: int


@dataclass(frozen=True)
class Order:
    accession_number: str
    priority: str
    patient_location: str
    referring_physician: str
    admission_id: str
    study_description: str
    requested_procedure: str
    study_datetime: str  # ISO 8601, local time without zone


def uid_factory(kind: str, seed: int, salt: str = "") -> callable:
    """Return uid(*parts) giving deterministic UIDs unique to (kind, seed, salt, parts)."""

    def uid(*parts: object) -> str:
        return str(generate_uid(entropy_srcs=["synthetic", kind, str(seed), salt, *map(str, parts)]))

    return uid


def make_patient(rng: np.random.Generator, study_date: dt.date, *, sex: str | None = None,
                 age_range: tuple[int, int] = (40, 85)) -> Patient:
    """A patient with a name from a mixed-script roster; sex can be forced (mammography, prostate)."""
    # One draw from the study's generator, as the old roster pick took: the images drawn after it
    # stay the same for a seed.
    names = np.random.default_rng(int(rng.integers(2**31)))
    psex = sex or ("M", "F")[int(names.integers(2))]
    name = patient_name(names, psex)
    age = int(rng.integers(age_range[0], age_range[1] + 1))
    birth = study_date - dt.timedelta(days=int(age * 365.25 + rng.integers(0, 365)))
    return Patient(
        patient_id=f"SYN{int(rng.integers(10**7, 10**8))}",
        name=name,
        birth_date=birth.strftime("%Y%m%d"),
        sex=psex,
        age_years=age,
    )


def make_order(rng: np.random.Generator, *, study_description: str, study_datetime: dt.datetime,
               priority: str | None = None, patient_location: str | None = None,
               default_locations: tuple[str, ...] = (LOCATION_OUTPATIENT,)) -> Order:
    """The order fields a RIS would attach; urgency follows location unless forced."""
    if patient_location is None:
        patient_location = default_locations[int(rng.integers(len(default_locations)))]
    if priority is None:
        priority = default_priority(rng, patient_location)
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
    return Order(
        accession_number=f"A{int(rng.integers(10**8, 10**9))}",
        priority=priority,
        patient_location=patient_location,
        referring_physician=REFERRING_PHYSICIANS[int(rng.integers(len(REFERRING_PHYSICIANS)))],
        admission_id=f"ADM{int(rng.integers(10**6, 10**7))}",
        study_description=study_description,
        requested_procedure=study_description,
        study_datetime=study_datetime.isoformat(timespec="seconds"),
    )


def default_priority(rng: np.random.Generator, location: str) -> str:
    """Emergency orders are mostly STAT, inpatients mixed, outpatients and screening routine."""
    table = {
        LOCATION_ED: (("STAT", "HIGH", "ROUTINE"), (0.6, 0.3, 0.1)),
        LOCATION_ICU: (("STAT", "HIGH", "ROUTINE"), (0.4, 0.4, 0.2)),
        LOCATION_INPATIENT: (("HIGH", "MEDIUM", "ROUTINE"), (0.2, 0.4, 0.4)),
        LOCATION_OUTPATIENT: (("ROUTINE", "MEDIUM", "LOW"), (0.7, 0.2, 0.1)),
        LOCATION_SCREENING: (("ROUTINE", "LOW"), (0.6, 0.4)),
    }
    values, p = table.get(location, (("ROUTINE",), (1.0,)))
    return str(values[int(rng.choice(len(values), p=p))])


def default_study_datetime(rng: np.random.Generator) -> dt.datetime:
    """A working-hours time in 2024, fixed by the seed."""
    day = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
    seconds = int(rng.integers(7 * 3600, 19 * 3600))
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


def file_dataset(sop_class_uid: str, sop_instance_uid: str) -> Dataset:
    """An empty dataset with file meta for Explicit VR Little Endian."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "SYNTH_1_0"
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    return ds


def add_patient_study(ds: Dataset, patient: Patient, order: Order, *, study_uid: str,
                      study_id: str, body_part: str) -> None:
    """Patient, General Study, Patient Study and the order attributes the ingestion reads."""
    when = dt.datetime.fromisoformat(order.study_datetime)
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = "SYNTH"
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientAge = f"{patient.age_years:03d}Y"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = when.strftime("%Y%m%d")
    ds.StudyTime = when.strftime("%H%M%S")
    ds.StudyID = study_id
    ds.AccessionNumber = order.accession_number
    ds.ReferringPhysicianName = order.referring_physician
    ds.StudyDescription = order.study_description
    ds.BodyPartExamined = body_part
    ds.AdmissionID = order.admission_id
    ds.CurrentPatientLocation = order.patient_location
    ds.RequestedProcedurePriority = order.priority
    request = Dataset()
    request.RequestedProcedureID = order.accession_number
    request.ScheduledProcedureStepID = order.accession_number
    request.RequestedProcedureDescription = order.requested_procedure
    request.AccessionNumber = order.accession_number
    ds.RequestAttributesSequence = [request]
    ds.InstitutionName = INSTITUTION
    ds.InstitutionalDepartmentName = "RADIOLOGY"


def add_series_equipment(ds: Dataset, *, modality: str, series_uid: str, series_number: int,
                         series_description: str, series_datetime: dt.datetime, model: str,
                         frame_of_reference_uid: str | None) -> None:
    """General Series, General Equipment and (for cross-sectional kinds) Frame of Reference."""
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description
    ds.SeriesDate = series_datetime.strftime("%Y%m%d")
    ds.SeriesTime = series_datetime.strftime("%H%M%S")
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = model
    ds.DeviceSerialNumber = "SYN-0001"
    ds.SoftwareVersions = "synthetic-1.0"
    ds.StationName = f"SYN{modality}01"
    if frame_of_reference_uid is not None:
        ds.FrameOfReferenceUID = frame_of_reference_uid
        ds.PositionReferenceIndicator = ""


def add_image_dates(ds: Dataset, when: dt.datetime, instance_number: int) -> None:
    ds.InstanceNumber = instance_number
    ds.ContentDate = when.strftime("%Y%m%d")
    ds.ContentTime = when.strftime("%H%M%S")
    ds.AcquisitionDate = when.strftime("%Y%m%d")
    ds.AcquisitionTime = when.strftime("%H%M%S")
    ds.AcquisitionDateTime = when.strftime("%Y%m%d%H%M%S")
    ds.InstanceCreationDate = when.strftime("%Y%m%d")
    ds.InstanceCreationTime = when.strftime("%H%M%S")


def add_pixels(ds: Dataset, pixels: np.ndarray, *, photometric: str = "MONOCHROME2",
               bits_stored: int | None = None) -> None:
    """Image Pixel module for a 2-D unsigned or signed integer array."""
    if pixels.ndim != 2:
        raise ValueError("one frame per instance")
    signed = pixels.dtype.kind == "i"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = (int(v) for v in pixels.shape)
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored or 16
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<i2" if signed else "<u2").tobytes()


def patient_truth(patient: Patient) -> dict:
    return asdict(patient)


def order_truth(order: Order) -> dict:
    return asdict(order)
