"""Key images must be images of the study being signed.

The reader's page names a key image by our series id and Orthanc's instance id. The series is
checked against the study's series in the database, and the instance against the archive: Orthanc
must know it as an instance of that very series (its ParentSeries), so a slice of another study, or
of another patient, can never be signed into this study's report and reach its referrer.
"""

from __future__ import annotations

from archive import orthanc
from worklist.models import Study

MAX_KEY_IMAGES = 12


class KeyImageRefused(Exception):
    """A key image that is not an image of this study, or cannot be checked; the text says why."""


def key_images_check(*, study: Study, images) -> list[dict]:
    """The key images, each checked and completed with its UIDs (for FHIR and the clinician's view)."""
    if not isinstance(images, list) or len(images) > MAX_KEY_IMAGES:
        raise KeyImageRefused(f"at most {MAX_KEY_IMAGES} key images")
    series = {s.pk: s for s in study.series.all()}
    clean = []
    for image in images:
        try:
            series_id, instance_id = int(image["series_id"]), str(image["instance_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyImageRefused("a key image needs series_id and instance_id") from exc
        if series_id not in series or not instance_id.replace("-", "").isalnum():
            raise KeyImageRefused("a key image must be a slice of this study")
        try:
            instance = orthanc.get_json(f"instances/{instance_id}")
        except orthanc.OrthancNotFound as exc:
            raise KeyImageRefused("a key image must be a slice of this study (the archive does not know it)") from exc
        except orthanc.OrthancUnavailable as exc:
            raise KeyImageRefused("the archive is unavailable, so the key images cannot be checked: "
                                  "sign without them or try again") from exc
        if instance.get("ParentSeries") != series[series_id].orthanc_id:
            raise KeyImageRefused("a key image must be a slice of this study")
        clean.append({"series_id": series_id, "series_instance_uid": series[series_id].series_instance_uid,
                      "instance_id": instance_id,
                      "sop_instance_uid": instance.get("MainDicomTags", {}).get("SOPInstanceUID", ""),
                      "label": str(image.get("label", ""))[:80]})
    return clean
