"""Ingestion: follow Orthanc's change feed and keep one Study row per Orthanc study (patient + UID).

The cursor is stored in the database and advanced only after the study it points past
has been saved, so a crash anywhere re-reads a change instead of losing it. Saving a
study is idempotent, so reading a change twice is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as djtz

from archive import orthanc
from archive.completion import study_images_if_complete
from worklist.identity import identity_clash_find, identity_conflict_mark
from worklist.models import IdentityState, IngestCursor, PendingStudy, Series, Study, StudyStatus

logger = logging.getLogger(__name__)

CURSOR_NAME = "orthanc"
PENDING_CHECKS_PER_PASS = 50
# Derived objects (our own AI results among them) are stored in the study but are not images
# to analyse: a new SR must not trigger another analysis.
NON_IMAGE_MODALITIES = frozenset({"SR", "SEG", "PR", "KO", "REG", "DOC", "RWV", "PLAN"})


@dataclass
class SeriesMetadata:
    series_instance_uid: str
    orthanc_id: str
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    body_part: str = ""
    instance_count: int = 0


@dataclass
class StudyMetadata:
    study_instance_uid: str
    orthanc_id: str
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: date | None = None
    patient_sex: str = ""
    accession_number: str = ""
    modality: str = ""
    modalities: str = ""
    body_part: str = ""
    study_description: str = ""
    referring_physician: str = ""
    requested_priority: str = ""
    patient_location: str = ""
    study_datetime: datetime | None = None
    arrived_at: datetime | None = None
    ctdi_vol_mgy: float | None = None
    dlp_mgy_cm: float | None = None
    series: list[SeriesMetadata] = field(default_factory=list)

    @property
    def image_instance_count(self) -> int:
        return sum(s.instance_count for s in self.series if s.modality not in NON_IMAGE_MODALITIES)


def parse_dicom_date(value: str | None) -> date | None:
    value = (value or "").strip()
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date() if len(value) >= 8 else None
    except ValueError:
        return None


def parse_dicom_datetime(date_value: str | None, time_value: str | None) -> datetime | None:
    day = parse_dicom_date(date_value)
    if day is None:
        return None
    digits = (time_value or "").split(".")[0].strip().ljust(6, "0")[:6]
    try:
        moment = datetime.strptime(digits, "%H%M%S").time()
    except ValueError:
        moment = datetime.min.time()
    return datetime.combine(day, moment, tzinfo=UTC)


def parse_orthanc_timestamp(value: str | None) -> datetime | None:
    """Orthanc writes ReceptionDate / LastUpdate as 20261126T012345 (UTC)."""
    try:
        return datetime.strptime((value or "").strip(), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(tags: dict, key: str, limit: int = 200) -> str:
    value = tags.get(key)
    if isinstance(value, list):  # multi-valued in simplified tags
        value = "\\".join(str(v) for v in value)
    return str(value or "").strip()[:limit]


def _number(value) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def ct_dose(tags: dict, image_count: int) -> tuple[float | None, float | None]:
    """CTDIvol from the image header, and DLP estimated as CTDIvol x scanned length.

    Images do not carry DLP (a dose SR does); length = images x slice thickness is the usual
    approximation for a contiguous axial series.
    """
    ctdi = _number(tags.get("CTDIvol"))
    thickness = _number(tags.get("SliceThickness"))
    if ctdi is None:
        return None, None
    dlp = round(ctdi * image_count * thickness / 10, 1) if thickness else None
    return ctdi, dlp


def _main_modality(series: list[SeriesMetadata]) -> tuple[str, str]:
    image_series = [s for s in series if s.modality not in NON_IMAGE_MODALITIES]
    counts: dict[str, int] = {}
    for s in image_series or series:
        counts[s.modality] = counts.get(s.modality, 0) + s.instance_count
    main = max(counts, key=lambda m: counts[m]) if counts else ""
    return main, "\\".join(sorted(m for m in {s.modality for s in series} if m))


def parse_study_metadata(study: dict, series: list[dict], tags: dict, reception: str | None) -> StudyMetadata:
    """Turn Orthanc's JSON for a study into the fields the worklist keeps. Missing tags give blanks."""
    main_study = study.get("MainDicomTags", {})
    patient = study.get("PatientMainDicomTags", {})
    parsed_series = []
    for s in series:
        tags_s = s.get("MainDicomTags", {})
        try:
            number = int(str(tags_s.get("SeriesNumber", "")).strip())
        except ValueError:
            number = None
        parsed_series.append(
            SeriesMetadata(
                series_instance_uid=tags_s.get("SeriesInstanceUID", s["ID"]),
                orthanc_id=s["ID"],
                modality=_text(tags_s, "Modality", 16),
                series_number=number,
                description=_text(tags_s, "SeriesDescription"),
                body_part=_text(tags_s, "BodyPartExamined", 64),
                instance_count=len(s.get("Instances", [])),
            )
        )
    main_modality, all_modalities = _main_modality(parsed_series)
    image_count = sum(s.instance_count for s in parsed_series if s.modality not in NON_IMAGE_MODALITIES)
    ctdi, dlp = ct_dose(tags, image_count) if main_modality == "CT" else (None, None)
    body_part = _text(tags, "BodyPartExamined", 64) or next((s.body_part for s in parsed_series if s.body_part), "")
    return StudyMetadata(
        study_instance_uid=main_study.get("StudyInstanceUID") or tags.get("StudyInstanceUID") or study["ID"],
        orthanc_id=study["ID"],
        patient_id=_text(patient, "PatientID", 64) or _text(tags, "PatientID", 64),
        patient_name=_text(patient, "PatientName") or _text(tags, "PatientName"),
        patient_birth_date=parse_dicom_date(patient.get("PatientBirthDate") or tags.get("PatientBirthDate")),
        patient_sex=_text(patient, "PatientSex", 16) or _text(tags, "PatientSex", 16),
        accession_number=_text(main_study, "AccessionNumber", 64),
        modality=main_modality,
        modalities=all_modalities,
        body_part=body_part,
        study_description=_text(main_study, "StudyDescription"),
        referring_physician=_text(main_study, "ReferringPhysicianName") or _text(tags, "ReferringPhysicianName"),
        requested_priority=_text(tags, "RequestedProcedurePriority", 16).upper(),
        patient_location=_text(tags, "CurrentPatientLocation"),
        study_datetime=parse_dicom_datetime(main_study.get("StudyDate"), main_study.get("StudyTime")),
        arrived_at=parse_orthanc_timestamp(reception) or parse_orthanc_timestamp(study.get("LastUpdate")),
        ctdi_vol_mgy=ctdi,
        dlp_mgy_cm=dlp,
        series=parsed_series,
    )


def _save_study(meta: StudyMetadata, *, early: bool = False) -> tuple[Study, bool]:
    """Create or update the study and its series; True when its images are new or changed.

    ``early``: ingested before Orthanc called it stable, so its images may still be arriving."""
    from worklist.services import study_prioritise, study_publish_on_commit

    fields = {
        name: getattr(meta, name)
        for name in (
            "orthanc_id patient_id patient_name patient_birth_date patient_sex accession_number modality "
            "modalities body_part study_description referring_physician requested_priority patient_location "
            "study_datetime ctdi_vol_mgy dlp_mgy_cm"
        ).split()
    }
    with transaction.atomic():
        # Orthanc's study id hashes PatientID + StudyInstanceUID: the identity (IHE PIR), never the UID alone.
        study = Study.objects.select_for_update().filter(orthanc_id=meta.orthanc_id).first()
        created = study is None
        if created:
            study = Study(
                orthanc_id=meta.orthanc_id,
                arrived_at=meta.arrived_at or djtz.now(),
                status=StudyStatus.RECEIVED,
                status_changed_at=djtz.now(),
            )
        images_changed = created or study.instance_count != meta.image_instance_count
        for name, value in fields.items():
            setattr(study, name, value)
        study.study_instance_uid = meta.study_instance_uid
        study.series_count = len([s for s in meta.series if s.modality not in NON_IMAGE_MODALITIES])
        study.instance_count = meta.image_instance_count
        # Only while it is still pending: an early pass that read the archive before a concurrent
        # StableStudy ingest (which deletes the pending row) must not set the flag again for good.
        study.images_arriving = early and PendingStudy.objects.filter(orthanc_id=meta.orthanc_id).exists()
        study_prioritise(study)
        study.save()
        clash = None
        if study.identity_state == IdentityState.OK:
            clash = identity_clash_find(
                orthanc_id=meta.orthanc_id, study_instance_uid=meta.study_instance_uid, patient_id=meta.patient_id,
                series=[(s.series_instance_uid, s.orthanc_id) for s in meta.series])
        for s in meta.series:
            Series.objects.update_or_create(
                orthanc_id=s.orthanc_id,
                defaults={
                    "study": study,
                    "series_instance_uid": s.series_instance_uid,
                    "modality": s.modality,
                    "series_number": s.series_number,
                    "description": s.description,
                    "body_part": s.body_part,
                    "instance_count": s.instance_count,
                },
            )
        if clash is not None:
            identity_conflict_mark(study, clash)
        if images_changed and study.identity_state != IdentityState.CONFLICT:
            from inference.services import analysis_request

            analysis_request(study)
        study_publish_on_commit(study.pk)
    return study, images_changed


def study_ingest(orthanc_study_id: str, *, early: bool = False) -> Study | None:
    """Read one study from the archive and save it; None if the archive no longer has it.

    ``early``: before Orthanc calls it stable (complete by its header counts); the study is marked
    as possibly still arriving until an ingest without ``early`` (StableStudy) clears the mark."""
    try:
        documents = orthanc.study_documents(orthanc_study_id, results_modalities=NON_IMAGE_MODALITIES)
    except orthanc.OrthancNotFound:
        logger.warning("study %s announced by Orthanc is gone; skipped", orthanc_study_id)
        return None
    meta = parse_study_metadata(*documents)
    try:
        study, images_changed = _save_study(meta, early=early)
    except IntegrityError:
        # Another ingester saved the same study at the same moment: update it instead.
        study, images_changed = _save_study(meta, early=early)
    logger.info(
        "ingested study %s (%s, %d images%s)",
        study.pk,
        study.modality,
        study.instance_count,
        ", held: identity conflict" if study.identity_state == IdentityState.CONFLICT
        else ", queued for analysis" if images_changed else "",
    )
    return study


def _cursor_advance(seq: int) -> None:
    IngestCursor.objects.filter(name=CURSOR_NAME, last_seq__lt=seq).update(last_seq=seq)


def _archive_was_reset(cursor_seq: int) -> bool:
    """True when the archive's newest change is older than our cursor (a new, empty Orthanc)."""
    newest = orthanc.get_json("changes?last")
    return int(newest.get("Last", 0)) < cursor_seq


def orthanc_changes_follow(*, page_size: int = 200, max_pages: int = 50) -> int:
    """Ingest every study that became stable since the stored cursor. Returns how many."""
    cursor, _ = IngestCursor.objects.get_or_create(name=CURSOR_NAME)
    seq = cursor.last_seq
    ingested = 0
    for _ in range(max_pages):
        changes, last, done = orthanc.changes_since(seq, limit=page_size)
        if not changes and seq and _archive_was_reset(seq):
            logger.warning("Orthanc change feed restarted below cursor %d; re-reading from 0", seq)
            IngestCursor.objects.filter(name=CURSOR_NAME).update(last_seq=0)
            seq = 0
            continue
        for change in changes:
            kind = change.get("ChangeType")
            if kind == "NewStudy":
                PendingStudy.objects.get_or_create(orthanc_id=change["ID"])
            elif kind == "NewSeries":
                _prefetch_request(change["ID"])
            elif kind == "StableStudy":
                # The pending row goes first, so that an early ingest racing this one (two followers
                # when the lock is lost) cannot mark the study as still arriving after this ingest.
                # Should the ingest fail, the cursor stays before this change and it is read again.
                PendingStudy.objects.filter(orthanc_id=change["ID"]).delete()
                study_ingest(change["ID"])
                ingested += 1
                _cursor_advance(change["Seq"])
            seq = change["Seq"]
        _cursor_advance(seq)
        if done:
            break
    return ingested + complete_studies_ingest() + pending_studies_settle()


def _prefetch_request(series_orthanc_id: str) -> None:
    """Let an inference worker decode the series while it arrives (an optimisation: losing it costs time only)."""
    from inference.services import series_prefetch_request

    series_prefetch_request(series_orthanc_id)


def complete_studies_ingest(*, limit: int = PENDING_CHECKS_PER_PASS) -> int:
    """Ingest, before Orthanc calls them stable, announced studies complete by the modality's own counts.

    The study stays pending: its StableStudy change still comes and ingests it again, which is
    idempotent when nothing changed and re-analyses it when images came after the count was met
    (a count too low, or a series sent late). So a wrong count, or none, never loses a study.
    Returns how many were ingested early.
    """
    ingested = 0
    for pending in PendingStudy.objects.order_by("-announced_at")[:limit]:
        try:
            series = orthanc.get_json(f"studies/{pending.orthanc_id}/series")
        except orthanc.OrthancNotFound:
            continue  # deleted: pending_studies_settle forgets it
        total = study_images_if_complete(series, results_modalities=NON_IMAGE_MODALITIES)
        if total is None or total == pending.early_images:
            continue
        logger.info("study %s complete by its header counts (%d images): ingested before it is stable",
                    pending.orthanc_id, total)
        study_ingest(pending.orthanc_id, early=True)
        PendingStudy.objects.filter(pk=pending.pk).update(early_images=total)
        ingested += 1
    return ingested


def pending_studies_settle(*, now: datetime | None = None) -> int:
    """Ingest announced studies whose StableStudy change never came, once Orthanc calls them stable.

    Orthanc forgets its stability timers when it stops, so a study that was still arriving then
    is stored but never announced as stable. Returns how many were ingested.
    """
    now = now or djtz.now()
    quiet_since = now - timedelta(seconds=settings.ORTHANC_STABLE_AGE + settings.INGEST_PENDING_GRACE_SECONDS)
    ingested = 0
    overdue = PendingStudy.objects.filter(announced_at__lt=quiet_since).order_by("announced_at")
    for pending in overdue[:PENDING_CHECKS_PER_PASS]:
        try:
            resource = orthanc.get_json(f"studies/{pending.orthanc_id}")
        except orthanc.OrthancNotFound:
            pending.delete()  # deleted from the archive before it was ever stable
            continue
        if not resource.get("IsStable", False):
            continue  # still receiving images: Orthanc will announce it
        logger.warning("study %s was never announced stable (Orthanc restarted?); ingesting it now",
                       pending.orthanc_id)
        study_ingest(pending.orthanc_id)
        pending.delete()
        ingested += 1
    return ingested
