"""Findings the reader adds (the AI missed them): placed by a click on the image, edited with a form,
removed, all until the report is signed (or while an amendment is open).

A reader-added finding is a `FindingReview` with decision "added"; what the worklist model has no
column for (the solid part of a part-solid nodule, the image it was placed on) is kept in its `site`.
"""

from __future__ import annotations

from django.db import transaction

from reporting.models import FindingDecision, FindingReview
from reporting.reading import ReadingError, _check_type, access_study_for_reading, finding_add
from worklist.models import Series
from worklist.services import audit_record

PART_SOLID = "part_solid"


def _check_size(*, finding_type: str, diameter_mm: float | None, solid_mm: float | None) -> float | None:
    """A positive size; for a part-solid nodule also its solid part, smaller than the whole (Lung-RADS
    v2022 sizes part-solid nodules by both); no solid part on any other type."""
    if diameter_mm is None or not 0 < diameter_mm <= 300:
        raise ReadingError("the size must be above 0 and at most 300 mm")
    if finding_type != PART_SOLID:
        if solid_mm not in (None, 0):
            raise ReadingError("only a part-solid nodule has a solid part")
        return None
    if solid_mm is None or solid_mm <= 0:
        raise ReadingError("a part-solid nodule needs the size of its solid part (above 0 mm)")
    if solid_mm >= diameter_mm:
        raise ReadingError("the solid part must be smaller than the whole nodule (else it is a solid nodule)")
    return round(float(solid_mm), 1)


def _checked_image(study, image: dict | None) -> dict | None:
    """The image a finding was placed on: a series of this study and a slice index within it."""
    if not image:
        return None
    try:
        series_id, slice_index = int(image["series_id"]), int(image["slice_index"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReadingError("the image of a finding needs its series and slice") from exc
    series = Series.objects.filter(pk=series_id, study=study).first()
    if series is None or not 0 <= slice_index < max(series.instance_count, 1):
        raise ReadingError("the finding must be placed on an image of this study")
    return {"series_id": series_id, "slice_index": slice_index,
            "sop_instance_uid": str(image.get("sop_instance_uid") or "")[:64],
            "pixel": [int(v) for v in (image.get("pixel") or [])[:2]]}


def reader_finding_add(*, study_id: int, user, diameter_mm: float, finding_type: str, solid_mm: float | None = None,
                       image: dict | None = None, **place) -> FindingReview:
    """Add a missed finding (centre in patient mm, or breast / zone, as `finding_add` wants)."""
    solid = _check_size(finding_type=finding_type, diameter_mm=diameter_mm, solid_mm=solid_mm)
    with transaction.atomic():
        review = finding_add(study_id=study_id, user=user, diameter_mm=diameter_mm, finding_type=finding_type, **place)
        extra = {name: value for name, value in (("solid_mm", solid), ("image", _checked_image(review.study, image)))
                 if value is not None}
        if extra:
            review.site = {**(review.site or {}), **extra}
            review.save(update_fields=["site"])
    return review


def _reader_finding(study, key: str) -> FindingReview:
    prefix, _, number = key.partition("-")
    review = None
    if prefix == "reader" and number.isdigit() and len(number) < 16:  # a key, not a database overflow
        review = FindingReview.objects.filter(pk=int(number), study=study, decision=FindingDecision.ADDED).first()
    if review is None:
        raise ReadingError(f"no reader-added finding {key!r} on this study (AI findings are accepted or rejected)")
    return review


def reader_finding_update(*, study_id: int, user, key: str, diameter_mm: float | None = None,
                          finding_type: str | None = None, solid_mm: float | None = None,
                          centre_mm: list[float] | None = None, note: str | None = None) -> FindingReview:
    """Change a reader-added finding's size, type, solid part or centre."""
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        review = _reader_finding(study, key)
        finding_type = finding_type or review.finding_type
        _check_type(study, finding_type)
        diameter = diameter_mm if diameter_mm is not None else review.diameter_mm
        site = dict(review.site or {})
        solid = solid_mm if solid_mm is not None else (site.get("solid_mm") if finding_type == PART_SOLID else None)
        solid = _check_size(finding_type=finding_type, diameter_mm=diameter, solid_mm=solid)
        site.pop("solid_mm", None)
        if solid is not None:
            site["solid_mm"] = solid
        if centre_mm is not None:
            if len(centre_mm) != 3:
                raise ReadingError("a centre needs x, y and z in mm")
            review.centre_mm = [float(v) for v in centre_mm]
        review.finding_type, review.diameter_mm, review.site = finding_type, diameter, site or None
        if note is not None:
            review.note = note[:300]
        review.reviewer = user
        review.save()
        audit_record(user=user, action="finding.reader_edited", study=study, detail=key)
    return review


def reader_finding_remove(*, study_id: int, user, key: str) -> None:
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        _reader_finding(study, key).delete()
        audit_record(user=user, action="finding.reader_removed", study=study, detail=key)
