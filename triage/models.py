from django.db import models

from triage.priority import Target


class UrgencyClass(models.Model):
    """An urgency class and its turnaround target, editable by a manager.

    Defaults are seeded by migration 0002 (figures in triage.priority
    DEFAULT_TARGETS). The priority code reads these rows through
    ``triage.selectors.urgency_targets`` and falls back to the defaults for a
    class that is missing, so deleting a row never hides a study.
    """

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(help_text="Lower is more urgent; breaks ties between equal targets.")
    target_minutes = models.PositiveIntegerField(help_text="Arrival to signed report.")
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("rank",)
        verbose_name_plural = "urgency classes"

    def __str__(self) -> str:
        return f"{self.name} ({self.target_minutes} min)"

    def as_target(self) -> Target:
        return Target(code=self.code, name=self.name, rank=self.rank, minutes=self.target_minutes)
