"""The clinician view shows the AI headline only once a report is signed (unless the department
chose otherwise); when it shows it for a study still receiving images, it says so."""

import pytest

from clinician.selectors import clinician_study_view
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db


def test_an_ai_headline_shown_before_signing_says_the_study_may_be_incomplete(settings):
    settings.CLINICIAN_SHOW_AI_BEFORE_SIGNING = True
    study = make_study(status="analysed", ai_headline="No nodule found", images_arriving=True, instance_count=40)
    view = clinician_study_view(study)
    assert view["ai_headline"] == "No nodule found"
    assert view["ai_partial_note"].startswith("Images may still be arriving: the AI has read 40 images so far")


def test_nothing_is_said_while_the_headline_is_hidden_or_the_study_complete(settings):
    settings.CLINICIAN_SHOW_AI_BEFORE_SIGNING = False
    arriving = make_study(status="analysed", ai_headline="No nodule found", images_arriving=True)
    assert clinician_study_view(arriving)["ai_partial_note"] == ""
    settings.CLINICIAN_SHOW_AI_BEFORE_SIGNING = True
    complete = make_study(status="analysed", ai_headline="No nodule found")
    assert clinician_study_view(complete)["ai_partial_note"] == ""
