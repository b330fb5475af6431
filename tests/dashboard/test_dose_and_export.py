"""CT dose against reference levels, and the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard import selectors
from dashboard.models import DoseReferenceLevel
from dashboard.selectors import Window
from tests.dashboard.helpers import NOW, open_study, reported_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db

WINDOW = Window(since=NOW - timedelta(days=7), until=NOW)


@pytest.fixture
def chest_cts():
    # CTDIvol 4, 6, 8, 10, 20 mGy; DLP 150, 200, 250, 300, 700 mGy·cm.
    studies = [open_study(arrived_minutes_ago=60 + i, modality="CT", study_description="CT CHEST", ctdi_vol_mgy=c,
                          dlp_mgy_cm=d, accession_number=f"D{i}")
               for i, (c, d) in enumerate(((4, 150), (6, 200), (8, 250), (10, 300), (20, 700)))]
    open_study(arrived_minutes_ago=60, modality="CT", study_description="CT HEAD", ctdi_vol_mgy=50, dlp_mgy_cm=800)
    open_study(arrived_minutes_ago=60, modality="CR")  # no dose: not counted
    return studies


def test_dose_per_protocol_and_outliers_against_the_reference(chest_cts):
    DoseReferenceLevel.objects.create(protocol="CT CHEST", ctdi_vol_mgy=9.0, dlp_mgy_cm=400.0)
    rows = {r["protocol"]: r for r in selectors.dose_by_protocol(window=WINDOW)}
    chest = rows["CT CHEST"]
    # CTDIvol 4 6 8 10 20: median 8; P75 rank 3 -> 10. DLP median 250, P75 300.
    assert chest["n"] == 5 and chest["ctdi_median"] == pytest.approx(8) and chest["ctdi_p75"] == pytest.approx(10)
    assert chest["dlp_median"] == pytest.approx(250) and chest["dlp_p75"] == pytest.approx(300)
    assert chest["ctdi_max"] == 20 and chest["reference_ctdi"] == 9.0
    # Above 9 mGy: 10 and 20; above 400 mGy·cm: 700 (the same study as 20 mGy) -> 2 studies.
    assert chest["outliers"] == 2
    assert rows["CT HEAD"]["outliers"] == 0 and rows["CT HEAD"]["reference_ctdi"] is None  # no reference set

    outliers = selectors.dose_outliers(window=WINDOW)
    # Ratios: 20/9 = 2.22 and 700/400 = 1.75 -> 2.22; 10/9 = 1.11 and 300/400 -> 1.11.
    assert [(o["accession_number"], round(o["ratio"], 2)) for o in outliers] == [("D4", 2.22), ("D3", 1.11)]


def test_a_manager_sets_a_reference_level_and_it_is_audited(api_as, manager, radiologist, chest_cts):
    client = api_as(manager)
    response = client.post("/api/stats/dose/reference-levels/",
                           {"protocol": "CT CHEST", "ctdi_vol_mgy": 7.5, "dlp_mgy_cm": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["set_by"] == "max"
    response = client.post("/api/stats/dose/reference-levels/", {"protocol": "CT CHEST", "ctdi_vol_mgy": 9},
                           format="json")
    assert response.status_code == 200 and DoseReferenceLevel.objects.get().ctdi_vol_mgy == 9
    events = AuditEvent.objects.filter(action="dose_reference.update").order_by("at")
    assert [e.detail for e in events] == ["CT CHEST: none → CTDIvol 7.5, DLP None",
                                          "CT CHEST: CTDIvol 7.5, DLP None → CTDIvol 9.0, DLP None"]
    assert client.post("/api/stats/dose/reference-levels/", {"protocol": "X", "ctdi_vol_mgy": -1},
                       format="json").status_code == 400
    assert api_as(radiologist).post("/api/stats/dose/reference-levels/", {"protocol": "X", "ctdi_vol_mgy": 1},
                                    format="json").status_code == 403


def test_csv_export_has_one_row_per_study_with_its_times(api_as, manager):
    now = timezone.now()
    reported_study(arrived_minutes_ago=0, turnaround=45, target=60, accession_number="CSV-1", modality="CT")
    reported_study(arrived_minutes_ago=0, turnaround=90, target=60, accession_number="CSV-2",
                   study_description="=HYPERLINK(evil)")
    open_study(arrived_minutes_ago=0, accession_number="CSV-3", patient_name="SECRET^NAME")
    from worklist.models import Study

    # The helpers count from the fixed clock; move these studies to the last hour for the default window.
    shift = now - NOW - timedelta(minutes=30)
    for study in Study.objects.all():
        Study.objects.filter(pk=study.pk).update(
            arrived_at=study.arrived_at + shift,
            reported_at=study.reported_at + shift if study.reported_at else None,
            due_at=study.due_at + shift if study.due_at else None)

    response = api_as(manager).get("/api/stats/export/studies.csv", {"days": 1})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["accession_number"] for r in rows] == ["CSV-1", "CSV-2", "CSV-3"]
    assert (rows[0]["turnaround_minutes"], rows[0]["within_target"]) == ("45.0", "1")
    assert (rows[1]["turnaround_minutes"], rows[1]["within_target"]) == ("90.0", "0")
    assert rows[2]["turnaround_minutes"] == "" and rows[2]["reported_at"] == ""
    assert rows[1]["study_description"] == "'=HYPERLINK(evil)"  # not a formula in a spreadsheet
    assert rows[0]["modality"] == "CT" and rows[0]["arrived_at"].startswith(str(now.year))
    assert "SECRET" not in text  # no patient names in the export
    assert AuditEvent.objects.filter(action="stats.export", user=manager).exists()
