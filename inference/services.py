"""The analysis pipeline: request an analysis, run the CAD models that apply, record the outcome.

AI fails open: whatever a model does, the study stays on the worklist with its clinical
priority, and a failure is written on it with its reason.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from archive.orthanc import OrthancUnavailable
from inference.cad.base import StudyInfo
from inference.cad.envelope import OutsideEnvelope
from inference.cad.registry import models_for_study, registered_models
from inference.models import AnalysisRun, AnalysisStatus
from inference.studies import study_model, study_owner

logger = logging.getLogger(__name__)


def analysis_request(study: models.Model) -> None:
    """Inside the caller's transaction: mark the study queued and enqueue it after commit."""
    StudyStatus = study_owner().statuses
    study.analysis_generation += 1
    study.analysis_attempts = 0
    study.status = StudyStatus.QUEUED
    study.status_reason = ""
    study.status_changed_at = timezone.now()
    study.save(update_fields=["analysis_generation", "analysis_attempts", "status", "status_reason",
                              "status_changed_at", "updated_at"])
    study_id = study.pk
    transaction.on_commit(lambda: analysis_enqueue(study_id))


def analysis_enqueue(study_id: int) -> None:
    """Send the task; if the broker is down the study stays queued and the sweeper sends it later."""
    from inference.tasks import analyse_study

    try:
        analyse_study.delay(study_id)
    except Exception:  # noqa: BLE001 - broker outage: the sweeper retries, nothing is lost
        logger.warning("could not enqueue analysis of study %s; the sweeper will retry", study_id, exc_info=True)


def series_prefetch_request(series_orthanc_id: str) -> None:
    """Ask an inference worker to decode a new series while it arrives (archive.prefetch)."""
    from inference.tasks import prefetch_series

    try:
        prefetch_series.delay(series_orthanc_id)
    except Exception:  # noqa: BLE001 - an optimisation: without it the analysis fetches the images itself
        logger.warning("could not ask for series %s to be prefetched", series_orthanc_id, exc_info=True)


def series_prefetch_run(series_orthanc_id: str, *, idle_since: float | None = None) -> float | None:
    """One prefetch step for a series whose header announces its size and that a volume model may read.

    Returns the time since which no new instance came, to be given to the next step, or None when
    prefetching is over: the series holds its count, nothing came for max(2 s, StableAge), or it
    is not a series to prefetch."""
    from archive.completion import series_expected_images
    from archive.orthanc import OrthancNotFound, get_json
    from archive.prefetch import series_prefetch_step
    from inference.cad.volume_model import VolumeCadModel

    try:
        series = get_json(f"series/{series_orthanc_id}")
    except OrthancNotFound:
        return None
    tags = series.get("MainDicomTags", {})
    expected = series_expected_images(tags)
    if expected is None:
        return None  # no announced size: nothing tells when to stop, and StableStudy starts the analysis
    if idle_since is None:  # the first step: is it a series a volume model may read?
        candidate = {"orthanc_id": series_orthanc_id, "modality": tags.get("Modality", ""),
                     "description": tags.get("SeriesDescription", ""), "instance_count": expected}
        readers = [m for m in registered_models()
                   if isinstance(m, VolumeCadModel) and m.load_volume.__func__ is VolumeCadModel.load_volume
                   and m.candidate_series(_one_series_study(candidate))]
        if not readers:
            return None
    try:
        present, decoded, held = series_prefetch_step(series_orthanc_id)
    except OrthancNotFound:
        return None
    now = time.time()
    idle_since = now if decoded or idle_since is None else idle_since
    if present >= expected or now - idle_since > max(2.0, float(settings.ORTHANC_STABLE_AGE)):
        logger.info("series %s prefetched: %d of its %d instances decoded ahead", series_orthanc_id, held, present)
        return None
    return idle_since


def _one_series_study(series: dict) -> StudyInfo:
    return StudyInfo(study_id=0, orthanc_id="", modality=series["modality"], modalities=(series["modality"],),
                     body_part="", study_description="", series=(series,))


def study_info(study: models.Model) -> StudyInfo:
    return StudyInfo(
        study_id=study.pk,
        orthanc_id=study.orthanc_id,
        modality=study.modality,
        modalities=tuple(m for m in study.modalities.split("\\") if m),
        body_part=study.body_part,
        study_description=study.study_description,
        series=tuple(
            {"orthanc_id": s.orthanc_id, "modality": s.modality, "description": s.description,
             "instance_count": s.instance_count, "series_instance_uid": s.series_instance_uid}
            for s in study.series.all()
        ),
    )


@contextlib.contextmanager
def _exclusive(study_id: int) -> Iterator[bool]:
    """One analysis of a study at a time, across workers.

    A PostgreSQL session advisory lock is released by the server when its connection dies,
    so a worker killed mid-analysis does not block the redelivered task. SQLite (the
    one-machine demo) runs one worker and needs no lock.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [7301, study_id])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [7301, study_id])


def study_analyse(study_id: int) -> str:
    """Run every applicable model on the study's current images, once per analysis request.

    Returns what happened ("done", "skipped: ...") for logs and tests. Raises
    OrthancUnavailable so the task can retry with backoff.
    """
    Study, StudyStatus, study_set_status = study_model(), study_owner().statuses, study_owner().set_status
    with _exclusive(study_id) as got_lock:
        if not got_lock:
            return "skipped: another worker is analysing this study"
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            return "skipped: study no longer exists"
        generation = study.analysis_generation
        if study.analysed_generation >= generation:
            return "skipped: already analysed"
        Study.objects.filter(pk=study_id).update(analysis_attempts=F("analysis_attempts") + 1)

        info = study_info(study)
        models, failures = models_for_study(info)
        if not models and not failures:
            what = " ".join(part for part in (study.modality, study.body_part) if part) or "unknown"
            _finish(study_id, generation, StudyStatus.NO_AI, reason=f"No AI for this study type ({what})")
            return "done: no_ai"

        study_set_status(study_id, StudyStatus.ANALYSING)
        headlines: list[str] = []
        refusals: list[str] = []
        for model in models:
            outcome_text = _run_one(study, info, model, generation)
            if outcome_text.startswith("failed:"):
                failures.append(f"{model.name}: {outcome_text[len('failed: '):]}")
            elif outcome_text.startswith("refused:"):
                refusals.append(_no_ai_text(model, outcome_text[len("refused: "):], alone=len(models) == 1))
            elif outcome_text:
                headlines.append(outcome_text)
        if refusals and not headlines and not failures:
            # Outside every applicable model's envelope: no AI, and the reader is told why.
            _finish(study_id, generation, StudyStatus.NO_AI, reason="; ".join(refusals))
            return "done: no_ai"
        # A refusal beside other results stays visible in the headline (never hidden).
        headlines.extend(refusals)
        if failures:
            _finish(study_id, generation, StudyStatus.AI_FAILED, reason="; ".join(failures),
                    headline="; ".join(headlines))
        else:
            _finish(study_id, generation, StudyStatus.ANALYSED, headline="; ".join(headlines))
        return "done: " + ("ai_failed" if failures else "analysed")


def _no_ai_text(model, reason: str, *, alone: bool) -> str:
    """"No AI: slices 5 mm thick; this model reads 0.5–2.5 mm", naming the model when several applied."""
    if alone:
        return f"No AI: {reason}"
    return f"No AI ({model.name.replace('_', ' ')}): {reason}"


def _run_one(study: models.Model, info: StudyInfo, model, generation: int) -> str:
    """Run one model and store its result row. Returns its headline, 'failed: reason' or 'refused: reason'."""
    run, _ = AnalysisRun.objects.update_or_create(
        study=study, model_name=model.name, model_version=model.version,
        defaults={"status": AnalysisStatus.RUNNING, "generation": generation, "started_at": timezone.now(),
                  "finished_at": None, "error": ""},
    )
    started = time.perf_counter()
    try:
        outcome = model.run(info)
    except OrthancUnavailable:
        raise
    except OutsideEnvelope as exc:
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=AnalysisStatus.REFUSED, error=exc.reason[:500], finished_at=timezone.now(),
            inference_seconds=time.perf_counter() - started,
        )
        return f"refused: {exc.reason}"
    except Exception as exc:  # noqa: BLE001 - any model failure is recorded on the study, never hides it
        reason = f"{type(exc).__name__}: {exc}"[:480]
        logger.exception("model %s %s failed on study %s", model.name, model.version, study.pk)
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=AnalysisStatus.FAILED, error=reason, finished_at=timezone.now(),
            inference_seconds=time.perf_counter() - started,
        )
        return f"failed: {reason}"
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisStatus.DONE, suspicion=outcome.suspicion, category=outcome.category,
        headline=outcome.headline[:300], result=outcome.result, finished_at=timezone.now(),
        inference_seconds=time.perf_counter() - started,
    )
    return outcome.headline


def _finish(study_id: int, generation: int, status: str, *, reason: str = "", headline: str = "") -> None:
    with transaction.atomic():
        study_model().objects.filter(pk=study_id, analysed_generation__lt=generation).update(
            analysed_generation=generation)
        study_owner().set_status(study_id, status, reason=reason, headline=headline)


def analyses_sweep(*, now=None) -> dict[str, int]:
    """Re-queue analyses that stalled (lost task, dead worker, broker outage); give up after N attempts."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.ANALYSIS_STALL_SECONDS)
    Study, StudyStatus = study_model(), study_owner().statuses
    stalled = Study.objects.filter(
        analysis_generation__gt=F("analysed_generation"),
        status__in=[StudyStatus.RECEIVED, StudyStatus.QUEUED, StudyStatus.ANALYSING],
        status_changed_at__lt=limit,
    )
    requeued = failed = 0
    for study in stalled:
        if study.analysis_attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
            _finish(study.pk, study.analysis_generation, StudyStatus.AI_FAILED,
                    reason=f"analysis did not complete after {study.analysis_attempts} attempts")
            failed += 1
            continue
        Study.objects.filter(pk=study.pk).update(status_changed_at=now)
        analysis_enqueue(study.pk)
        requeued += 1
    if requeued or failed:
        logger.warning("sweeper: %d analyses re-queued, %d given up", requeued, failed)
    return {"requeued": requeued, "failed": failed}
