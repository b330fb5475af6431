"""Reads: a patient's earlier mammography reports, and how the mammography AI agrees with the reports."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from inference.models import AnalysisRun, AnalysisStatus
from priors.mining import birads_level
from priors.models import PriorReport
from triage.rules import split_category
from worklist.models import Study

MAMMOGRAPHY_MODEL = "mammography"
# Report categories that mean "call the woman back" (further imaging, follow-up or biopsy) against 1 and 2.
# 6 (known cancer) is neither and is left out of the agreement figures.
RECALL_LEVELS = {"0", "3", "4", "5"}
NO_RECALL_LEVELS = {"1", "2"}


def study_prior_reports(*, study: Study) -> list[PriorReport]:
    """The same patient's mammography reports up to this study's date, newest first; never the study's own."""
    if not study.patient_id:
        return []
    when = timezone.localdate(study.study_datetime or study.arrived_at)
    own = Q(study=study)
    if study.accession_number:
        own |= Q(accession_number=study.accession_number)
    reports = list(PriorReport.objects.filter(patient_id=study.patient_id, modality="MG", study_date__lte=when)
                   .exclude(own).order_by("-study_date", "-id"))
    # A study reported here and also in an imported file is shown once, as signed here.
    signed = {r.accession_number for r in reports if r.source == PriorReport.Source.SIGNED and r.accession_number}
    return [r for r in reports if not (r.source == PriorReport.Source.IMPORTED and r.accession_number in signed)]


def mammography_ai_run(*, study: Study) -> AnalysisRun | None:
    return (AnalysisRun.objects.filter(study=study, model_name=MAMMOGRAPHY_MODEL, status=AnalysisStatus.DONE)
            .order_by("-finished_at", "-id").first())


def ai_recall(run: AnalysisRun) -> bool | None:
    """The model's BI-RADS suggestion read as recall (0, 3, 4, 5) or not (1, 2); None without a category."""
    parsed = split_category(run.category)
    if parsed is None or parsed[0] != "birads":
        return None
    level = birads_level(parsed[1])
    return True if level in RECALL_LEVELS else False if level in NO_RECALL_LEVELS else None


def report_recall(birads: str) -> bool | None:
    level = birads_level(birads or None)
    return True if level in RECALL_LEVELS else False if level in NO_RECALL_LEVELS else None


def _report_of(study: Study, reports: dict) -> PriorReport | None:
    """The study's own report: signed here first, else an imported one with the same accession."""
    return reports.get(("signed", study.pk)) or reports.get(("imported", study.pk)) or \
        reports.get(("accession", study.patient_id, study.accession_number))


def mammography_ai_agreement() -> dict:
    """AI recall against the mined category of the same study's report, over every analysed mammogram."""
    runs = {}
    for run in (AnalysisRun.objects.filter(model_name=MAMMOGRAPHY_MODEL, status=AnalysisStatus.DONE)
                .select_related("study").order_by("finished_at", "id")):
        runs[run.study_id] = run  # the latest run per study
    reports: dict = {}
    accessions = {run.study.accession_number for run in runs.values() if run.study.accession_number}
    for prior in PriorReport.objects.filter(Q(study_id__in=runs.keys()) | Q(accession_number__in=accessions)):
        if prior.study_id in runs:
            reports[(prior.source, prior.study_id)] = prior
        if prior.source == PriorReport.Source.IMPORTED and prior.accession_number:
            reports[("accession", prior.patient_id, prior.accession_number)] = prior
    table = {"ai_recall_report_recall": 0, "ai_recall_report_no_recall": 0,
             "ai_no_recall_report_recall": 0, "ai_no_recall_report_no_recall": 0}
    skipped = {"no_report": 0, "no_category_mined": 0, "no_ai_category": 0, "birads_6": 0}
    for run in runs.values():
        report = _report_of(run.study, reports)
        if report is None:
            skipped["no_report"] += 1
            continue
        if not report.birads:
            skipped["no_category_mined"] += 1
            continue
        truth, predicted = report_recall(report.birads), ai_recall(run)
        if truth is None:
            skipped["birads_6"] += 1
            continue
        if predicted is None:
            skipped["no_ai_category"] += 1
            continue
        key = ("ai_recall" if predicted else "ai_no_recall") + ("_report_recall" if truth else "_report_no_recall")
        table[key] += 1
    tp, fp = table["ai_recall_report_recall"], table["ai_recall_report_no_recall"]
    fn, tn = table["ai_no_recall_report_recall"], table["ai_no_recall_report_no_recall"]
    n = tp + fp + fn + tn
    return {
        "n": n,
        "table": table,
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "specificity": tn / (tn + fp) if tn + fp else None,
        "agreement": (tp + tn) / n if n else None,
        "not_counted": skipped,
        "definition": "AI recall = model category birads:0 (or 3/4/5); report recall = mined BI-RADS 0, 3, 4, 5; "
                      "no recall = 1, 2; BI-RADS 6 and reports without a stated category are not counted",
    }
