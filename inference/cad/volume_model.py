"""The shared run() of models that read one image series: select, fetch, predict, report.

A subclass gives `name`, `version`, `applicability`, `predict(volume)` and, if it has a
reporting system, `summarise(prediction)`. Everything else is here, so built-in and external
(manifest) models go through the same steps and the same time limit.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings

from archive.volumes import Volume, series_volume
from inference.cad.base import Applicability, ModelOutcome, Prediction, StudyInfo
from inference.cad.envelope import Envelope, SeriesFacts, series_choose, series_facts

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 300.0


class ModelTimeout(Exception):
    """A model ran past MODEL_TIMEOUT_SECONDS."""


def call_with_time_limit(fn, seconds: float, *args, **kwargs):
    """Run fn in a watchdog thread; raise ModelTimeout when it takes longer than `seconds`.

    Python cannot kill a thread: a model that overruns keeps its thread until it returns,
    but the study is released at once (marked "AI failed") instead of waiting on it. Celery's
    own time limits would need the task module; this keeps the limit with the model.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="cad-model", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise ModelTimeout(f"model did not finish within the {seconds:g} s time limit")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def model_timeout_seconds() -> float:
    return float(getattr(settings, "MODEL_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def _matches(text: str, words: tuple[str, ...]) -> bool:
    upper = (text or "").upper()
    return any(word.upper() in upper for word in words)


class VolumeCadModel:
    name: str = ""
    version: str = ""
    applicability: Applicability = Applicability()
    # The acquisitions the model was validated on; None: any series routing accepts is read.
    envelope: Envelope | None = None

    # --- routing ---------------------------------------------------------------------------

    def applies_to(self, study: StudyInfo) -> bool:
        rule = self.applicability
        modalities = {m.upper() for m in (study.modalities or (study.modality,))}
        if rule.modalities and not modalities & {m.upper() for m in rule.modalities}:
            return False
        if rule.body_parts:
            part_ok = (study.body_part or "").upper() in {b.upper() for b in rule.body_parts}
            described = _matches(study.study_description, rule.description_keywords)
            if not (part_ok or described):
                return False
        return bool(self.candidate_series(study))

    def candidate_series(self, study: StudyInfo) -> list[dict]:
        """The series routing accepts: matching modality and description, enough images."""
        rule = self.applicability
        return [
            s for s in study.series
            if (not rule.modalities or (s.get("modality") or "").upper() in {m.upper() for m in rule.modalities})
            and int(s.get("instance_count") or 0) >= rule.min_instances
            and not _matches(s.get("description", ""), rule.series_exclude)
            and (not rule.series_include or _matches(s.get("description", ""), rule.series_include))
        ]

    def series_facts(self, series: dict) -> SeriesFacts:
        """Header facts of one series from Orthanc (every instance's tags, no pixels)."""
        from archive.orthanc import get_json

        tags = get_json(f"series/{series['orthanc_id']}/instances-tags", params={"simplify": ""})
        return series_facts(tags.values(), modality=series.get("modality") or "")

    def select_series(self, study: StudyInfo) -> dict:
        """The series to read: the best inside the envelope; OutsideEnvelope (with the reason) if none."""
        candidates = self.candidate_series(study)
        if self.envelope is None:
            if not candidates:
                raise ValueError("no series this model can read")
            return max(candidates, key=lambda s: int(s.get("instance_count") or 0))
        return series_choose([(s, self.series_facts(s)) for s in candidates], self.envelope)

    # --- the pipeline entry ----------------------------------------------------------------

    def load_volume(self, series: dict) -> Volume:
        return series_volume(series["orthanc_id"])

    def predict(self, volume: Volume) -> Prediction:
        raise NotImplementedError

    def summarise(self, prediction: Prediction) -> tuple[str, str]:
        """(category, headline) for the worklist; models without a reporting system give no category."""
        count = len(prediction.findings)
        if not count:
            return "", "No finding above the model's threshold"
        top = prediction.findings[0]
        noun = "finding" if count == 1 else "findings"
        return "", f"{count} {noun}, most probable {top.probability:.0%} ({top.diameter_mm:.0f} mm)"

    def run(self, study: StudyInfo) -> ModelOutcome:
        return call_with_time_limit(self._run, model_timeout_seconds(), study)

    def _run(self, study: StudyInfo) -> ModelOutcome:
        from inference.dicom_results import sr_store

        series = self.select_series(study)
        # Where the time goes (kept with the result; bench/bench_pipeline.py reports it).
        started = time.perf_counter()
        volume = self.load_volume(series)
        fetched = time.perf_counter()
        prediction = self.predict(volume)
        predicted = time.perf_counter()
        category, headline = self.summarise(prediction)
        sr_uid = sr_store(volume, prediction, model_name=self.name, model_version=self.version)
        stored = time.perf_counter()
        return ModelOutcome(
            suspicion=prediction.suspicion, category=category, headline=headline,
            result={
                "findings": [f.as_dict() for f in prediction.findings],
                "series_instance_uid": volume.series_instance_uid,
                "timings": {"fetch_seconds": round(fetched - started, 3),
                            "prefetched_slices": volume.prefetched_slices, "slices": int(volume.hu.shape[0]),
                            "predict_seconds": round(predicted - fetched, 3),
                            "sr_seconds": round(stored - predicted, 3)},
                "sr_sop_instance_uid": sr_uid,
            },
        )
