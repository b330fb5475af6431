"""Report drafts are saved on the server as the reader types and restored wherever the study is reopened."""

import pytest

from reporting.models import ReportDraft
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db

DRAFT = {"findings_text": "Lungs: 6 mm solid nodule RUL.", "impression": "Lung-RADS 3.", "lungrads_category": "3",
         "key_images": [{"series_id": 1, "instance_id": "abc", "label": "slice 4"}],
         "override_reasons": {"unreviewed": "discussed with the AI team"}}


def test_the_reader_holding_the_read_saves_and_gets_back_the_draft(api_as, radiologist):
    study = make_study()
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    assert client.get(f"/api/studies/{study.pk}/report/draft/").status_code == 204
    saved = client.put(f"/api/studies/{study.pk}/report/draft/", {"fields": DRAFT}, format="json")
    assert saved.status_code == 200
    # Another session of the same reader (another browser) gets it back as saved.
    again = api_as(radiologist).get(f"/api/studies/{study.pk}/report/draft/")
    assert again.status_code == 200 and again.json()["fields"] == DRAFT
    edited = dict(DRAFT, impression="Lung-RADS 4A.")
    client.put(f"/api/studies/{study.pk}/report/draft/", {"fields": edited}, format="json")
    assert ReportDraft.objects.get(study=study).fields["impression"] == "Lung-RADS 4A."


def test_a_draft_read_is_audited(api_as, radiologist):
    study = make_study()
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    client.get(f"/api/studies/{study.pk}/report/draft/")
    assert AuditEvent.objects.filter(action="report.draft", study=study, user=radiologist).count() == 1


def test_a_colleague_neither_reads_nor_overwrites_a_read_that_is_not_theirs(api_as, radiologist, other_radiologist,
                                                                            manager, clinician):
    study = make_study()
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    client.put(f"/api/studies/{study.pk}/report/draft/", {"fields": DRAFT}, format="json")
    colleague = api_as(other_radiologist)
    assert colleague.get(f"/api/studies/{study.pk}/report/draft/").status_code == 409
    assert colleague.put(f"/api/studies/{study.pk}/report/draft/", {"fields": {"impression": "x"}},
                         format="json").status_code == 409
    assert api_as(manager).get(f"/api/studies/{study.pk}/report/draft/").status_code == 403
    assert api_as(clinician).get(f"/api/studies/{study.pk}/report/draft/").status_code == 403
    assert ReportDraft.objects.get(study=study).fields == DRAFT


def test_an_unclaimed_study_has_no_draft_to_write(api_as, radiologist):
    study = make_study()
    response = api_as(radiologist).put(f"/api/studies/{study.pk}/report/draft/", {"fields": DRAFT}, format="json")
    assert response.status_code == 409 and "claim" in response.json()["detail"]
    assert not ReportDraft.objects.exists()


def test_an_oversized_draft_is_refused(api_as, radiologist):
    study = make_study()
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    response = client.put(f"/api/studies/{study.pk}/report/draft/", {"fields": {"findings_text": "x" * 70000}},
                          format="json")
    assert response.status_code == 409 and "KB" in response.json()["detail"]


def test_signing_removes_the_draft(api_as, radiologist):
    study = make_study(body_part="KNEE", modality="MR")
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    client.put(f"/api/studies/{study.pk}/report/draft/", {"fields": {"impression": "Normal knee."}}, format="json")
    images_viewed(study, radiologist)  # the reader saw the images before signing (signing guard)
    assert client.post(f"/api/studies/{study.pk}/report/sign/", {"impression": "Normal knee."},
                       format="json").status_code == 201
    assert not ReportDraft.objects.filter(study=study).exists()
