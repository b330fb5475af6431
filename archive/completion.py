"""When a series is complete by the modality's own count of its images.

Orthanc calls a study stable only once no image has come for StableAge seconds; a modality
that writes how many images a series holds lets the analysis start as the last one is stored.
"""

from __future__ import annotations


def _positive_int(tags: dict, key: str) -> int | None:
    try:
        value = int(str(tags.get(key, "")).strip())
    except ValueError:
        return None
    return value if value > 0 else None


def series_expected_images(tags: dict) -> int | None:
    """How many images the modality says a series holds, from its own header counts; None if it says not.

    Read from the series' main DICOM tags as Orthanc keeps them (the first instance's values):
    Images in Acquisition (0020,1002), General Image Module (DICOM PS3.3 C.7.6.1, Type 3: optional,
    so some scanners write it and many do not; our simulator's chest CT does), times Number of
    Temporal Positions (0020,0105) where a dynamic series gives it, as Orthanc counts; else Number
    of Slices (0054,0081) times Number of Time Slices (0054,0101), PET/NM. A wrong count costs
    time only: too high, the study waits for StableStudy as it always did; too low, the analysis
    starts early and the images past the count have it analysed again at StableStudy.
    """
    images = _positive_int(tags, "ImagesInAcquisition")
    if images:
        return images * (_positive_int(tags, "NumberOfTemporalPositions") or 1)
    slices = _positive_int(tags, "NumberOfSlices")
    if slices:
        return slices * (_positive_int(tags, "NumberOfTimeSlices") or 1)
    return None


def study_images_if_complete(series: list[dict], *, results_modalities: frozenset[str] = frozenset()) -> int | None:
    """The study's image count if every image series holds exactly the images its header announces, else None.

    More images than announced means the count is wrong: the study then waits for StableStudy
    rather than being analysed again at each image that trickles in.

    `series` is Orthanc's /studies/{id}/series answer. Series of `results_modalities` (our SR or
    SEG, a report PDF) are written into the study later; they are not images and carry no count."""
    images = [s for s in series
              if str(s.get("MainDicomTags", {}).get("Modality", "")).upper() not in results_modalities]
    if not images:
        return None
    total = 0
    for s in images:
        expected = series_expected_images(s.get("MainDicomTags", {}))
        have = len(s.get("Instances", []))
        if expected is None or have != expected:
            return None
        total += have
    return total
