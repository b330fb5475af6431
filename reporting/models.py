"""Reporting's tables: findings review, reports and their signed versions, critical results, and
what is not yet signed (the reader's draft, what the reader could view).

FindingReview, Report, ReportVersion and CriticalResult were worklist models until issue 15; their
tables kept the worklist_ names (Meta.db_table) so the move changed owners, not data."""

from django.conf import settings
from django.db import models


class ReportDraft(models.Model):
    """What a reader has typed but not signed, saved as they type so a reload, a crash or another
    workstation restores it. One per study and reader; removed when the study's report is signed.

    `fields` is the page's report form as sent (text, category, key images, override reasons): it
    is validated only when signed, so a half-written draft is never refused.
    """

    study = models.ForeignKey("worklist.Study", on_delete=models.CASCADE, related_name="report_drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fields = models.JSONField(default=dict)
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "author"], name="report_draft_per_reader")]

    def __str__(self) -> str:
        return f"draft of study {self.study_id} by {self.author_id}"


class ImageView(models.Model):
    """Whether the reader's viewer could show a series of the study (reported by the reading page).

    The signing guard reads it: a report is not signed on images the reader could not see, unless
    the reader gives a reason (reporting.services.sign_problems)."""

    study = models.ForeignKey("worklist.Study", on_delete=models.CASCADE, related_name="image_views")
    series = models.ForeignKey("worklist.Series", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shown = models.BooleanField()
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "user"], name="one_image_view_per_series_and_user")]

    def __str__(self) -> str:
        return f"series {self.series_id} {'shown' if self.shown else 'not shown'} to {self.user_id}"


class FindingDecision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    EDITED = "edited", "Edited"
    ADDED = "added", "Added by the reader (AI missed it)"


class FindingReview(models.Model):
    """A reader's decision on one AI finding, or a finding the reader added. Feeds AI monitoring."""

    study = models.ForeignKey("worklist.Study", on_delete=models.CASCADE, related_name="finding_reviews")
    analysis = models.ForeignKey("inference.AnalysisRun", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reviews")
    finding_index = models.PositiveIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=FindingDecision.choices)
    finding_type = models.CharField(max_length=32, blank=True)
    diameter_mm = models.FloatField(null=True, blank=True)
    centre_mm = models.JSONField(null=True, blank=True, help_text="[x, y, z] in patient mm (LPS), or empty")
    # Where a reader-added finding is when a 3-D centre does not say it: mammography
    # {"breast", "depth_mm"}, prostate MRI {"zone", "location"}.
    site = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reviewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "worklist_findingreview"  # the table kept its name when reporting took the model over
        constraints = [
            models.UniqueConstraint(fields=["analysis", "finding_index"], condition=models.Q(analysis__isnull=False),
                                    name="one_review_per_ai_finding"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} finding {self.finding_index} of study {self.study_id}"


class Report(models.Model):
    """A study's report; its text lives in versions, and a signed version is never changed."""

    study = models.OneToOneField("worklist.Study", on_delete=models.PROTECT, related_name="report")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "worklist_report"

    def __str__(self) -> str:
        return f"Report of study {self.study_id}"


class ReportVersion(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    template = models.CharField(max_length=16)
    fields = models.JSONField(default=dict)
    text = models.TextField()
    reading_mode = models.CharField(max_length=16)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    signed_at = models.DateTimeField()
    critical = models.BooleanField(default=False)
    amendment_reason = models.CharField(max_length=300, blank=True)
    # The signing guard (reporting.services.sign_problems): what it objected to and the reader's
    # reason to sign anyway; empty when nothing was overridden.
    override_reason = models.CharField(max_length=500, blank=True)
    overridden = models.JSONField(default=list, blank=True)
    archive_instance_id = models.CharField(max_length=64, blank=True, help_text="Orthanc id of the DICOM PDF")
    archive_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "worklist_reportversion"
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="report_version_number")]

    def __str__(self) -> str:
        return f"Report v{self.number} of study {self.report.study_id}"


class CriticalResult(models.Model):
    """A critical finding flagged at signing: the referring clinician must acknowledge it."""

    study = models.ForeignKey("worklist.Study", on_delete=models.CASCADE, related_name="critical_results")
    report_version = models.ForeignKey(ReportVersion, on_delete=models.PROTECT)
    note = models.CharField(max_length=300)
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flagged_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "worklist_criticalresult"

    def __str__(self) -> str:
        return f"Critical result on study {self.study_id}"
