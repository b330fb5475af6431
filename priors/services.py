"""Changes to prior reports: mining, importing a file of older reports, recording a signed report."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from priors.mining import mine_mammography_report
from priors.models import PriorReport
from reporting.models import ReportVersion
from worklist.models import Study

logger = logging.getLogger(__name__)

MAMMOGRAPHY = "MG"
IMPORT_COLUMNS = ("patient_id", "accession", "date", "modality", "text")


def is_mammography(study: Study) -> bool:
    return study.modality == MAMMOGRAPHY or MAMMOGRAPHY in (study.modalities or "").split("\\")


def mined_fields(text: str) -> dict:
    """The PriorReport columns the miner fills, evidence included."""
    mined = mine_mammography_report(text)
    details = mined.as_dict()
    return {
        "birads": mined.birads or "",
        "density": mined.density or "",
        "laterality": mined.laterality or "",
        "features": {key: details[key] for key in ("features", "negated", "birads_evidence", "density_evidence",
                                                   "prior_birads")},
        "mined_at": timezone.now(),
    }


def prior_report_remine(*, prior: PriorReport) -> PriorReport:
    """Mine the stored text again after a rule change (`python manage.py remine_prior_reports`)."""
    for name, value in mined_fields(prior.text).items():
        setattr(prior, name, value)
    prior.save()
    return prior


# --- signed here -------------------------------------------------------------------------------------


def prior_report_record_signed(*, version: ReportVersion) -> PriorReport | None:
    """A signed (or amended) mammography report becomes the study's PriorReport, its latest version mined."""
    study = version.report.study
    if not is_mammography(study):
        return None
    when = study.study_datetime or study.arrived_at
    prior, _ = PriorReport.objects.update_or_create(
        study=study, source=PriorReport.Source.SIGNED,
        defaults={"patient_id": study.patient_id, "accession_number": study.accession_number,
                  "study_date": timezone.localdate(when), "modality": MAMMOGRAPHY,
                  "body_part": study.body_part or "BREAST", "text": version.text, "report_version": version,
                  **mined_fields(version.text)},
    )
    return prior


# --- imported from elsewhere ----------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def read_prior_report_file(path: Path) -> list[tuple[int, dict]]:
    """(line or row number, row) from JSON lines (.jsonl/.json) or CSV with a header row."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(content.splitlines())
        missing = set(IMPORT_COLUMNS) - {c.strip().lower() for c in reader.fieldnames or []}
        if missing:
            raise ImportFileError(f"{path.name}: CSV header lacks {', '.join(sorted(missing))}")
        return [(number, {k.strip().lower(): v for k, v in row.items() if k}) for number, row in
                enumerate(reader, start=2)]
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append((number, {"_error": f"not JSON ({exc.msg})"}))
            continue
        rows.append((number, row if isinstance(row, dict) else {"_error": "not a JSON object"}))
    return rows


def _check_row(row: dict) -> dict:
    """Clean values of one row, or ValueError saying what is wrong."""
    if "_error" in row:
        raise ValueError(row["_error"])
    values = {name: str(row.get(name) or "").strip() for name in IMPORT_COLUMNS}
    missing = [name for name in IMPORT_COLUMNS if not values[name]]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    try:
        values["date"] = dt.date.fromisoformat(values["date"][:10])
    except ValueError:
        raise ValueError(f"date {values['date']!r} is not YYYY-MM-DD") from None
    values["modality"] = values["modality"].upper()
    if values["modality"] != MAMMOGRAPHY:
        raise ValueError(f"modality {values['modality']!r}: only mammography (MG) reports are mined")
    for name, limit in (("patient_id", 64), ("accession", 64)):
        if len(values[name]) > limit:
            raise ValueError(f"{name} longer than {limit} characters")
    values["body_part"] = str(row.get("body_part") or "BREAST").strip()[:64]
    return values


def prior_reports_import(*, rows: list[tuple[int, dict]]) -> ImportResult:
    """Import rows; a good row is saved even when others are bad. Same accession again: updated, not duplicated."""
    result = ImportResult()
    for number, row in rows:
        try:
            values = _check_row(row)
        except ValueError as exc:
            result.errors.append(f"row {number}: {exc}")
            continue
        with transaction.atomic():
            existing = (PriorReport.objects.select_for_update()
                        .filter(source=PriorReport.Source.IMPORTED, accession_number=values["accession"]).first())
            if existing and existing.text == values["text"] and existing.patient_id == values["patient_id"] \
                    and existing.study_date == values["date"]:
                result.unchanged += 1
                continue
            if existing and existing.patient_id != values["patient_id"]:
                result.errors.append(f"row {number}: accession {values['accession']} was imported for another "
                                     "patient; not changed")
                continue
            prior = existing or PriorReport(source=PriorReport.Source.IMPORTED, accession_number=values["accession"])
            prior.patient_id, prior.study_date, prior.text = values["patient_id"], values["date"], values["text"]
            prior.modality, prior.body_part = values["modality"], values["body_part"]
            prior.study = Study.objects.filter(accession_number=values["accession"],
                                               patient_id=values["patient_id"]).first()
            for name, value in mined_fields(values["text"]).items():
                setattr(prior, name, value)
            prior.save()
            if existing:
                result.updated += 1
            else:
                result.created += 1
    return result
