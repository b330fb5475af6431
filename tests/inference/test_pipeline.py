"""The analysis pipeline's states, failure handling and idempotence (service level, real database)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.cad import registry
from inference.models import AnalysisRun
from inference.services import analyses_sweep, study_analyse
from tests.worklist.factories import make_study
from worklist.models import Study, StudyStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def cad_models(settings):
    def use(*paths):
        settings.CAD_MODELS = list(paths)
        registry.registered_models.cache_clear()

    yield use
    registry.registered_models.cache_clear()


def queued_study(**fields):
    study = make_study(status=StudyStatus.QUEUED, analysis_generation=1, **fields)
    return study


def test_a_study_no_model_covers_is_marked_no_ai(cad_models):
    cad_models()
    study = queued_study(modality="MR", body_part="KNEE")
    assert study_analyse(study.pk) == "done: no_ai"
    study.refresh_from_db()
    assert study.status == StudyStatus.NO_AI
    assert study.status_reason == "No AI for this study type (MR KNEE)"


def test_a_suspicious_finding_raises_urgency_and_explains_why(cad_models):
    cad_models("tests.inference.fake_models:FlagsEveryCt")
    study = queued_study()
    before = study.due_at
    study_analyse(study.pk)
    study.refresh_from_db()
    assert study.status == StudyStatus.ANALYSED
    assert study.ai_headline == "1 nodule, largest 17 mm solid"
    assert study.urgency_code == "ai_critical"
    assert study.due_at < before
    assert "Lung-RADS 4B" in study.priority_reason


def test_a_crashing_model_leaves_the_study_on_the_worklist_marked_ai_failed(cad_models):
    cad_models("tests.inference.fake_models:CrashesOnCt", "tests.inference.fake_models:FlagsEveryCt")
    study = queued_study()
    study_analyse(study.pk)
    study.refresh_from_db()
    assert study.status == StudyStatus.AI_FAILED
    assert study.status_reason == "fake_crasher: ValueError: weights do not match input spacing"
    assert study.due_at is not None  # still prioritised, still listed
    runs = {r.model_name: r.status for r in AnalysisRun.objects.filter(study=study)}
    assert runs == {"fake_crasher": "failed", "fake_flagger": "done"}


def test_a_model_that_cannot_decide_is_shown_as_failed_and_the_others_still_run(cad_models):
    cad_models("tests.inference.fake_models:CannotReadHeaders", "tests.inference.fake_models:FlagsEveryCt")
    study = queued_study()
    assert study_analyse(study.pk) == "done: ai_failed"
    study.refresh_from_db()
    assert study.status == StudyStatus.AI_FAILED
    assert study.status_reason == ("fake_header_reader: could not read the study's headers "
                                   "(ValueError: ViewCodeSequence is empty)")
    assert study.urgency_code == "ai_critical"  # the other model's finding still counts
    # Alone, it still leaves the study listed as AI failed rather than "no AI".
    cad_models("tests.inference.fake_models:CannotReadHeaders")
    alone = queued_study(modality="MG", body_part="BREAST")
    assert study_analyse(alone.pk) == "done: ai_failed"


def test_an_archive_outage_while_routing_is_retried_not_recorded(cad_models):
    from archive.orthanc import OrthancUnavailable

    cad_models("tests.inference.fake_models:NeedsTheArchiveToRoute")
    study = queued_study()
    with pytest.raises(OrthancUnavailable):
        study_analyse(study.pk)
    study.refresh_from_db()
    assert study.status == StudyStatus.QUEUED and study.analysed_generation == 0


def test_analysing_twice_does_not_duplicate(cad_models):
    cad_models("tests.inference.fake_models:FlagsEveryCt")
    study = queued_study()
    assert study_analyse(study.pk) == "done: analysed"
    assert study_analyse(study.pk) == "skipped: already analysed"
    assert AnalysisRun.objects.filter(study=study).count() == 1


def test_the_sweeper_requeues_stalled_analyses_then_gives_up(cad_models, settings, monkeypatch):
    sent = []
    monkeypatch.setattr("inference.services.analysis_enqueue", sent.append)
    stale = timezone.now() - timedelta(seconds=settings.ANALYSIS_STALL_SECONDS + 5)
    stalled = queued_study(status_changed_at=stale)
    fresh = queued_study(status_changed_at=timezone.now())
    assert analyses_sweep() == {"requeued": 1, "failed": 0}
    assert sent == [stalled.pk]
    Study.objects.filter(pk=stalled.pk).update(status_changed_at=stale,
                                               analysis_attempts=settings.ANALYSIS_MAX_ATTEMPTS)
    assert analyses_sweep() == {"requeued": 0, "failed": 1}
    stalled.refresh_from_db()
    assert stalled.status == StudyStatus.AI_FAILED and "did not complete" in stalled.status_reason
    fresh.refresh_from_db()
    assert fresh.status == StudyStatus.QUEUED
