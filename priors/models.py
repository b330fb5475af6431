from django.db import models


class PriorReport(models.Model):
    """A mammography report, imported from an older system or signed here, with what was mined from its text."""

    class Source(models.TextChoices):
        IMPORTED = "imported", "Imported prior report"
        SIGNED = "signed", "Signed here"

    patient_id = models.CharField(max_length=64, db_index=True)
    accession_number = models.CharField(max_length=64, blank=True)
    study_date = models.DateField()
    modality = models.CharField(max_length=16, default="MG")
    body_part = models.CharField(max_length=64, blank=True, default="BREAST")
    text = models.TextField()
    source = models.CharField(max_length=16, choices=Source.choices)
    study = models.ForeignKey("worklist.Study", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="prior_reports", help_text="The study here with the same accession")
    report_version = models.ForeignKey("reporting.ReportVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", help_text="Signed here: the version mined")

    birads = models.CharField(max_length=2, blank=True, help_text="Mined BI-RADS category, blank if none stated")
    density = models.CharField(max_length=1, blank=True, help_text="Mined ACR density a-d, blank if none stated")
    laterality = models.CharField(max_length=16, blank=True)
    features = models.JSONField(default=dict, help_text="Mined features, negations and evidence spans")
    mined_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-study_date", "-id"]
        constraints = [
            # Imports are idempotent by accession; a signed study has one row, its latest version.
            models.UniqueConstraint(fields=["source", "accession_number"], condition=~models.Q(accession_number=""),
                                    name="prior_report_one_per_accession"),
            models.UniqueConstraint(fields=["study"], condition=models.Q(source="signed"),
                                    name="prior_report_one_signed_per_study"),
        ]
        indexes = [models.Index(fields=["patient_id", "study_date"], name="prior_report_patient_date")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.accession_number or self.pk} ({self.study_date})"
