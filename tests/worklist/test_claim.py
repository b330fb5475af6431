"""Claims are exclusive: the database decides a race, one reader wins."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.worklist.factories import make_study
from worklist.models import ReadingState, Study
from worklist.services import StudyClaimedByOther, study_claim, study_release


@pytest.mark.django_db
def test_a_claimed_study_cannot_be_claimed_by_another(radiologist, other_radiologist):
    study = make_study()
    study_claim(study_id=study.pk, user=radiologist)
    with pytest.raises(StudyClaimedByOther):
        study_claim(study_id=study.pk, user=other_radiologist)
    assert study_claim(study_id=study.pk, user=radiologist).claimed_by == radiologist  # re-opening is fine


@pytest.mark.django_db
def test_a_lapsed_claim_can_be_taken_over(radiologist, other_radiologist, settings):
    study = make_study()
    study_claim(study_id=study.pk, user=radiologist)
    Study.objects.filter(pk=study.pk).update(
        claim_touched_at=timezone.now() - timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS + 1)
    )
    assert study_claim(study_id=study.pk, user=other_radiologist).claimed_by == other_radiologist


@pytest.mark.django_db
def test_release_by_reader_or_manager_only(api_as, radiologist, other_radiologist, manager):
    study = make_study()
    api_as(radiologist).post(f"/api/studies/{study.pk}/claim/")
    assert api_as(other_radiologist).post(f"/api/studies/{study.pk}/release/").status_code == 409
    response = api_as(manager).post(f"/api/studies/{study.pk}/release/")
    assert response.status_code == 200 and response.json()["claimed_by"] is None
    assert Study.objects.get(pk=study.pk).reading_state == ReadingState.UNREAD
    assert study_release(study_id=study.pk, user=radiologist).reading_state == ReadingState.UNREAD


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_exactly_one_wins(api_as, radiologist, other_radiologist):
    assert connection.vendor == "postgresql", "the claim race is proven on PostgreSQL"
    for _ in range(10):
        study = make_study()
        barrier = threading.Barrier(2)
        codes: dict[str, int] = {}

        def claim(user, study=study, barrier=barrier, codes=codes):
            client = api_as(user)
            barrier.wait()
            try:
                codes[user.username] = client.post(f"/api/studies/{study.pk}/claim/").status_code
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(u,)) for u in (radiologist, other_radiologist)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [200, 409], codes
        winner = next(name for name, code in codes.items() if code == 200)
        assert Study.objects.get(pk=study.pk).claimed_by.username == winner
