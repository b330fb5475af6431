from django.db import models


class AnalysisStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # The study lies outside the model's operating envelope: not analysed, the reason in `error`.
    REFUSED = "refused", "Outside the model's envelope"


class AnalysisRun(models.Model):
    """One CAD model's result on one study: one row per (study, model, version), replaced on re-run."""

    study = models.ForeignKey("worklist.Study", on_delete=models.CASCADE, related_name="analyses")
    model_name = models.CharField(max_length=64)
    model_version = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=AnalysisStatus.choices, default=AnalysisStatus.RUNNING)
    generation = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    suspicion = models.FloatField(null=True, blank=True)
    category = models.CharField(max_length=32, blank=True, help_text="e.g. lungrads:4A")
    headline = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)
    inference_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "model_name", "model_version"], name="one_result_per_model_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_name} {self.model_version} on study {self.study_id}: {self.status}"
