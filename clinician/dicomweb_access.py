"""Who may read which study over DICOMweb (archive.dicomweb asks; settings.DICOMWEB_ACCESS names this).

The same rule as every other read here: radiologists and managers any study, a clinician only
their own patients' (`clinician_studies`, the lookup's selector), and every read in the audit log.
"""

from __future__ import annotations

from django.db.models import Count

from accounts.models import Role
from accounts.permissions import user_has_role
from clinician.selectors import clinician_studies
from worklist.models import IdentityState, Study
from worklist.services import audit_record


def _shared_uids(uids: list[str] | None = None) -> set[str]:
    """StudyInstanceUIDs that more than one (not merged-away) study carries."""
    studies = Study.objects.exclude(identity_state=IdentityState.MERGED)
    if uids is not None:
        studies = studies.filter(study_instance_uid__in=uids)
    return set(studies.values("study_instance_uid").annotate(n=Count("id")).filter(n__gt=1)
               .values_list("study_instance_uid", flat=True))


class StudyAccess:
    def may_use(self, user) -> bool:
        return user_has_role(user, Role.RADIOLOGIST, Role.MANAGER, Role.CLINICIAN)

    def visible_study_uids(self, user) -> set[str] | None:
        if user_has_role(user, Role.RADIOLOGIST, Role.MANAGER):
            return None
        return set(clinician_studies(user).values_list("study_instance_uid", flat=True)) - _shared_uids()

    def may_read_study(self, user, study_instance_uid: str) -> bool:
        if user_has_role(user, Role.RADIOLOGIST, Role.MANAGER):
            return True
        # DICOMweb addresses a study by its UID alone: a UID two patients' studies share would
        # hand the clinician both (worklist.identity), so it is refused until a correction.
        return (clinician_studies(user).filter(study_instance_uid=study_instance_uid).exists()
                and study_instance_uid not in _shared_uids([study_instance_uid]))

    def audit(self, request, *, action: str, study_instance_uid: str = "", detail: str = "") -> None:
        study = Study.objects.filter(study_instance_uid=study_instance_uid).first() if study_instance_uid else None
        if study_instance_uid and study is None:
            detail = f"study {study_instance_uid} (not on the worklist) {detail}"
        audit_record(user=request.user, action=action, study=study, detail=detail, request=request)
