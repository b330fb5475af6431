"""Patient identity of arriving studies (IHE Patient Information Reconciliation, ITI TF-1 §5).

A study is identified as Orthanc identifies it: PatientID + StudyInstanceUID (Orthanc's study id
is a hash of the two). An arrival whose StudyInstanceUID or SeriesInstanceUID already belongs to
another patient or study is never merged into it: it becomes its own worklist entry in the
"identity conflict" state, raises an alert, gets no AI analysis, cannot be claimed and is shown to
no clinician until a manager resolves it — keep the two apart, or confirm it was the same patient
once the archive has been corrected (the corrected images then arrive under the other study's
identity and join it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from archive import orthanc
from worklist.models import Alert, IdentityState, Series, Study

logger = logging.getLogger(__name__)


class IdentityNotCorrected(Exception):
    """'Same patient' was asked while the archive still holds the arrival under its own patient."""

    http_status = 409


class IdentityNotInConflict(Exception):
    """The study is not (or no longer) in an identity conflict."""

    http_status = 409


@dataclass(frozen=True)
class IdentityClash:
    other: Study
    reason: str


def identity_clash_find(*, orthanc_id: str, study_instance_uid: str, patient_id: str,
                        series: list[tuple[str, str]]) -> IdentityClash | None:
    """Another study that already owns this arrival's StudyInstanceUID (for another patient) or one of
    its SeriesInstanceUIDs. ``series``: (SeriesInstanceUID, Orthanc series id) pairs of the arrival."""
    others = Study.objects.exclude(orthanc_id=orthanc_id).exclude(identity_state=IdentityState.MERGED)
    same_uid = others.filter(study_instance_uid=study_instance_uid).exclude(patient_id=patient_id).first()
    if same_uid is not None:
        return IdentityClash(same_uid, f"StudyInstanceUID {study_instance_uid} already belongs to patient "
                                       f"{same_uid.patient_id or '(no ID)'} (study {same_uid.pk}); this arrival "
                                       f"names patient {patient_id or '(no ID)'}")
    uids = [uid for uid, _ in series]
    owned = (Series.objects.filter(series_instance_uid__in=uids).exclude(orthanc_id__in=[oid for _, oid in series])
             .exclude(study__orthanc_id=orthanc_id).exclude(study__identity_state=IdentityState.MERGED)
             .select_related("study").first())
    if owned is not None:
        other = owned.study
        return IdentityClash(other, f"SeriesInstanceUID {owned.series_instance_uid} already belongs to study "
                                    f"{other.pk} (patient {other.patient_id or '(no ID)'}, StudyInstanceUID "
                                    f"{other.study_instance_uid})")
    return None


def identity_conflict_mark(study: Study, clash: IdentityClash) -> None:
    """Inside the ingest transaction: hold the study and alert (saved study, no AI request)."""
    from worklist.events import alert_publish
    from worklist.services import audit_record

    study.identity_state = IdentityState.CONFLICT
    study.identity_reason = clash.reason[:300]
    study.identity_conflict_with = clash.other
    study.status_reason = "Identity conflict: held until a manager resolves it"
    study.save(update_fields=["identity_state", "identity_reason", "identity_conflict_with", "status_reason",
                              "updated_at"])
    alert, created = Alert.objects.get_or_create(kind=Alert.Kind.IDENTITY_CONFLICT, study=study,
                                                 defaults={"message": clash.reason[:300]})
    if not created and alert.acknowledged_at is not None:
        Alert.objects.filter(pk=alert.pk).update(message=clash.reason[:300], acknowledged_at=None,
                                                 acknowledged_by=None, raised_at=timezone.now())
    audit_record(user=None, action="identity.conflict", study=study, detail=clash.reason)
    logger.warning("identity conflict: study %s: %s", study.pk, clash.reason)
    transaction.on_commit(lambda: alert_publish(alert.pk))


def identity_conflicts_open() -> QuerySet[Study]:
    return (Study.objects.filter(identity_state=IdentityState.CONFLICT)
            .select_related("identity_conflict_with").order_by("arrived_at", "id"))


def study_identity_resolve(*, study_id: int, user, decision: str, note: str = "", request=None) -> Study:
    """A manager's decision on a held arrival.

    ``keep_apart``: two patients, two studies; the arrival is released (analysed, readable).
    ``same_patient``: the arrival was the other patient's all along and the archive has been
    corrected (its images now sit under the other study's identity); the held entry leaves the
    worklist. Refused while Orthanc still holds the arrival as it came.
    """
    from inference.services import analysis_request
    from worklist.services import audit_record, study_publish_on_commit

    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if study.identity_state != IdentityState.CONFLICT:
            raise IdentityNotInConflict(f"study {study.pk} has no open identity conflict")
        if decision == "keep_apart":
            study.identity_state = IdentityState.KEPT_APART
            study.save(update_fields=["identity_state", "updated_at"])
            analysis_request(study)
        elif decision == "same_patient":
            try:
                orthanc.get_json(f"studies/{study.orthanc_id}")
            except orthanc.OrthancNotFound:
                pass
            else:
                raise IdentityNotCorrected(
                    "the archive still holds this study under patient "
                    f"{study.patient_id or '(no ID)'}: correct the patient in Orthanc first")
            study.identity_state = IdentityState.MERGED
            study.status_reason = "Corrected in the archive; its images belong to study " \
                                  f"{study.identity_conflict_with_id}"
            study.save(update_fields=["identity_state", "status_reason", "updated_at"])
        else:
            raise ValueError(f"unknown decision {decision!r}")
        Alert.objects.filter(kind=Alert.Kind.IDENTITY_CONFLICT, study=study, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=timezone.now())
        audit_record(user=user, action=f"identity.{decision}", study=study, detail=note, request=request)
        study_publish_on_commit(study.pk)
    return study
