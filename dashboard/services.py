"""Changes a manager makes from the dashboard. Each is audit-logged."""

from __future__ import annotations

from django.db import transaction

from dashboard.models import DoseReferenceLevel
from worklist.services import audit_record


def dose_reference_set(*, protocol: str, ctdi_vol_mgy: float | None, dlp_mgy_cm: float | None, user,
                       request=None) -> DoseReferenceLevel:
    """Set (or clear, with both values empty) a protocol's reference level."""
    with transaction.atomic():
        level = DoseReferenceLevel.objects.select_for_update().filter(protocol=protocol).first()
        before = f"CTDIvol {level.ctdi_vol_mgy}, DLP {level.dlp_mgy_cm}" if level else "none"
        if level is None:
            level = DoseReferenceLevel(protocol=protocol)
        level.ctdi_vol_mgy, level.dlp_mgy_cm, level.set_by = ctdi_vol_mgy, dlp_mgy_cm, user
        level.save()
        audit_record(user=user, action="dose_reference.update", request=request,
                     detail=f"{protocol[:150]}: {before} → CTDIvol {ctdi_vol_mgy}, DLP {dlp_mgy_cm}")
    return level
