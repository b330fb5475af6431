"""Personas of the clinician tests: clinician A (Clara, referrer Haddad^Samir) and clinician B (Bruno,
referrer Chen^Wei), each with a patient; a radiologist who reads and signs; a manager."""

from __future__ import annotations

import pytest

from accounts.models import Role
from clinician.services import referrer_link
from reporting.reading import report_sign
from tests.support.reading import images_viewed
from tests.ui.conftest import browser, login  # noqa: F401  (re-exported fixtures)
from tests.worklist.factories import make_study
from worklist.models import ReadingState
from worklist.services import study_claim


@pytest.fixture
def clinician_a(make_user):
    user = make_user("clara", Role.CLINICIAN, first_name="Samir", last_name="Haddad")
    referrer_link(user=user, referring_name="Haddad^Samir^^Dr", created_by=None)
    return user


@pytest.fixture
def clinician_b(make_user):
    user = make_user("bruno", Role.CLINICIAN, first_name="Wei", last_name="Chen")
    referrer_link(user=user, referring_name="Chen, Wei", created_by=None)
    return user


def make_patient_study(**fields):
    values = {"modality": "CR", "body_part": "CHEST", "study_description": "Chest radiograph"}
    values.update(fields)
    return make_study(**values)


@pytest.fixture
def study_a(clinician_a):
    return make_patient_study(patient_id="PA-1", patient_name="Müller^Anna", accession_number="ACC-A1",
                              referring_physician="HADDAD^SAMIR^^DR")


@pytest.fixture
def study_b(clinician_b):
    return make_patient_study(patient_id="PB-1", patient_name="Brown^Bea", accession_number="ACC-B1",
                              referring_physician="Chen^Wei")


def sign(study, radiologist, *, critical: bool = False, note: str = "", impression: str = "Pneumothorax."):
    study_claim(study_id=study.pk, user=radiologist)
    images_viewed(study, radiologist)
    version = report_sign(study_id=study.pk, user=radiologist,
                          fields={"findings_text": "Left apical pneumothorax.", "impression": impression,
                                  "recommendation": "Chest drain."},
                          critical=critical, critical_note=note)
    study.refresh_from_db()
    assert study.reading_state == ReadingState.REPORTED
    return version


@pytest.fixture
def signed_a(study_a, radiologist):
    sign(study_a, radiologist, critical=True, note="Large left pneumothorax: call the ward")
    return study_a


@pytest.fixture
def signed_b(study_b, radiologist):
    sign(study_b, radiologist, critical=True, note="Tension pneumothorax")
    return study_b
