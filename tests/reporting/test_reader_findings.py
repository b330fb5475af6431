"""Findings the reader adds by clicking on the image: validated sizes, editable and removable until signing."""

import pytest
from pydicom.uid import generate_uid

from reporting.models import FindingReview
from reporting.reading import report_prefill
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import Series

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading(api_as, radiologist):
    study = make_study(study_description="CT CHEST LOW DOSE")
    series = Series.objects.create(study=study, series_instance_uid=generate_uid(),
                                   orthanc_id=f"s-{study.pk}", modality="CT", instance_count=60)
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    return study, series, client


def add(client, study, **fields):
    return client.post(f"/api/studies/{study.pk}/findings/reader/", fields, format="json")


def clicked(series, **extra):
    return {"centre_mm": [-42.5, 18.0, -101.25],
            "image": {"series_id": series.pk, "slice_index": 31, "sop_instance_uid": "1.2.3.31", "pixel": [40, 77]},
            **extra}


def test_a_finding_clicked_on_the_image_is_kept_with_its_slice_and_position(reading):
    study, series, client = reading
    response = add(client, study, diameter_mm=7.5, finding_type="part_solid", solid_mm=4.0, **clicked(series))
    assert response.status_code == 201
    body = response.json()
    assert body["centre_mm"] == [-42.5, 18.0, -101.25] and body["solid_mm"] == 4.0 and body["source"] == "reader"
    review = FindingReview.objects.get(study=study)
    assert review.site["image"] == {"series_id": series.pk, "slice_index": 31, "sop_instance_uid": "1.2.3.31",
                                    "pixel": [40, 77]}
    assert ("7.5 mm mean diameter (Lung-RADS v2022) part-solid nodule (solid part 4.0 mm)"
            in report_prefill(study)["findings_text"])


@pytest.mark.parametrize(("fields", "message"), [
    ({"diameter_mm": 8, "finding_type": "part_solid"}, "needs the size of its solid part"),
    ({"diameter_mm": 8, "finding_type": "part_solid", "solid_mm": 0}, "needs the size of its solid part"),
    ({"diameter_mm": 8, "finding_type": "part_solid", "solid_mm": 8}, "smaller than the whole"),
    ({"diameter_mm": 8, "finding_type": "solid", "solid_mm": 3}, "only a part-solid nodule"),
    ({"diameter_mm": 0, "finding_type": "solid"}, "above 0"),
    ({"diameter_mm": 8, "finding_type": "calcified"}, "type must be one of"),
])
def test_impossible_sizes_and_types_are_refused_in_words(reading, fields, message):
    study, series, client = reading
    response = add(client, study, **fields, **clicked(series))
    assert response.status_code == 409 and message in response.json()["detail"]
    assert not FindingReview.objects.exists()


def test_a_finding_cannot_be_placed_on_another_studys_image(reading):
    study, _, client = reading
    elsewhere = Series.objects.create(study=make_study(), series_instance_uid="9.9.9", orthanc_id="other",
                                      instance_count=60)
    response = add(client, study, diameter_mm=6, finding_type="solid", **clicked(elsewhere))
    assert response.status_code == 409 and "image of this study" in response.json()["detail"]
    assert not FindingReview.objects.exists()


def test_a_reader_finding_is_edited_and_removed_until_signing(reading, radiologist):
    study, series, client = reading
    key = add(client, study, diameter_mm=6, finding_type="solid", **clicked(series)).json()["key"]
    url = f"/api/studies/{study.pk}/findings/{key}/"
    edited = client.patch(url, {"diameter_mm": 9.0, "finding_type": "part_solid", "solid_mm": 5.0}, format="json")
    assert edited.status_code == 200 and (edited.json()["diameter_mm"], edited.json()["finding_type"]) == (
        9.0, "part_solid")
    assert client.patch(url, {"solid_mm": 12.0}, format="json").status_code == 409  # bigger than the nodule
    back_to_solid = client.patch(url, {"finding_type": "solid"}, format="json").json()
    assert back_to_solid["solid_mm"] is None
    assert client.delete(url).status_code == 204
    assert not FindingReview.objects.filter(study=study).exists()
    key = add(client, study, diameter_mm=6, finding_type="solid", **clicked(series)).json()["key"]
    images_viewed(study, radiologist)  # the reader saw the images before signing (signing guard)
    assert client.post(f"/api/studies/{study.pk}/report/sign/", {"impression": "Nodule.", "lungrads_category": "2"},
                       format="json").status_code == 201
    # Signed: the read is over, the finding stays as signed.
    assert client.patch(f"/api/studies/{study.pk}/findings/{key}/", {"diameter_mm": 3},
                        format="json").status_code == 409
    assert client.delete(f"/api/studies/{study.pk}/findings/{key}/").status_code == 409
    assert FindingReview.objects.get(study=study).diameter_mm == 6


def test_ai_findings_and_colleagues_reads_are_not_edited_here(reading, api_as, other_radiologist):
    study, series, client = reading
    key = add(client, study, diameter_mm=6, finding_type="solid", **clicked(series)).json()["key"]
    assert client.patch(f"/api/studies/{study.pk}/findings/ai-1-0/", {"diameter_mm": 3},
                        format="json").status_code == 409
    colleague = api_as(other_radiologist)
    assert colleague.delete(f"/api/studies/{study.pk}/findings/{key}/").status_code == 409
    assert FindingReview.objects.filter(study=study).count() == 1


def test_an_overlong_key_is_an_unknown_finding_not_a_server_error(reading):
    study, _, client = reading
    response = client.patch(f"/api/studies/{study.pk}/findings/reader-99999999999999999999/", {"diameter_mm": 3},
                            format="json")
    assert response.status_code == 409 and "no reader-added finding" in response.json()["detail"]
