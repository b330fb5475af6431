"""import_prior_reports: good files are mined and linked, bad rows are named, a second import changes nothing."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from priors.models import PriorReport
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows), encoding="utf-8")
    return path


def run(path):
    out, err = StringIO(), StringIO()
    call_command("import_prior_reports", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


GOOD = {"patient_id": "P9", "accession": "OLD-1", "date": "2023-04-02", "modality": "MG",
        "text": "History: previous BI-RADS 3. Heterogeneously dense. Stable circumscribed mass right. BI-RADS 2."}


def test_a_good_json_lines_file_is_imported_mined_and_linked_to_its_study(tmp_path):
    study = make_study(modality="MG", body_part="BREAST", patient_id="P9", accession_number="OLD-1")
    out, err = run(write_jsonl(tmp_path / "priors.jsonl", [GOOD]))
    assert "1 created" in out and err == ""
    prior = PriorReport.objects.get()
    assert (prior.source, prior.birads, prior.density, prior.study) == ("imported", "2", "c", study)
    assert prior.features["features"][0]["kind"] == "mass"
    assert "BI-RADS 2" in prior.features["birads_evidence"]["text"]
    assert [c for c, _ in prior.features["prior_birads"]] == ["3"]


def test_a_csv_file_is_imported(tmp_path):
    path = tmp_path / "priors.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["patient_id", "accession", "date", "modality", "text"])
        writer.writeheader()
        writer.writerow({**GOOD, "text": "ACR C. Grouped amorphous calcifications, left. BI-RADS 4B."})
    run(path)
    prior = PriorReport.objects.get()
    assert (prior.birads, prior.density, prior.laterality, prior.study) == ("4B", "c", "left", None)


def test_importing_the_same_accession_again_does_not_duplicate_and_a_new_text_updates(tmp_path):
    path = write_jsonl(tmp_path / "priors.jsonl", [GOOD])
    run(path)
    out, _ = run(path)
    assert "0 created, 0 updated, 1 unchanged" in out
    run(write_jsonl(tmp_path / "corrected.jsonl", [{**GOOD, "text": "BI-RADS 4A. Focal asymmetry left."}]))
    prior = PriorReport.objects.get()
    assert (prior.birads, PriorReport.objects.count()) == ("4A", 1)


def test_bad_rows_are_named_and_good_rows_still_imported(tmp_path):
    rows = [GOOD, "{not json", {**GOOD, "accession": "OLD-2", "date": "02/04/2023"},
            {**GOOD, "accession": "OLD-3", "modality": "CT"}, {**GOOD, "accession": "OLD-4", "text": ""},
            ["a", "list"], {**GOOD, "patient_id": "SOMEONE-ELSE"}]
    out, err = run(write_jsonl(tmp_path / "priors.jsonl", rows))
    assert "1 created" in out and "6 rejected" in out
    assert "row 2: not JSON" in err
    assert "row 3: date '02/04/2023' is not YYYY-MM-DD" in err
    assert "row 4: modality 'CT'" in err
    assert "row 5: missing text" in err
    assert "row 6: not a JSON object" in err
    assert "row 7: accession OLD-1 was imported for another patient" in err
    assert list(PriorReport.objects.values_list("accession_number", "patient_id")) == [("OLD-1", "P9")]


def test_a_file_with_no_good_row_or_no_header_fails(tmp_path):
    with pytest.raises(CommandError, match="no row could be imported"):
        run(write_jsonl(tmp_path / "bad.jsonl", ["{oops"]))
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("patient,date\nP1,2020-01-01\n")
    with pytest.raises(CommandError, match="CSV header lacks accession, modality, patient_id, text"):
        run(bad_csv)
    with pytest.raises(CommandError, match="cannot read"):
        run(tmp_path / "missing.jsonl")


def test_remining_updates_values_mined_by_older_rules(tmp_path):
    run(write_jsonl(tmp_path / "priors.jsonl", [GOOD]))
    PriorReport.objects.update(birads="5", density="", features={})  # as an older rule set left them
    out = StringIO()
    call_command("remine_prior_reports", stdout=out)
    prior = PriorReport.objects.get()
    assert (prior.birads, prior.density, prior.features["features"][0]["kind"]) == ("2", "c", "mass")
    assert "1 reports mined again, 1 changed" in out.getvalue()
