from django.conf import settings
from django.db import models


class ReferrerLink(models.Model):
    """A referring-physician identity (as orders and DICOM headers name it) that is this clinician.

    Maintained by a manager or an administrator; the match is on the normalised name only
    (clinician.names), never on a near match.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrer_links",
                             limit_choices_to={"role": "clinician"})
    referring_name_normalised = models.CharField(max_length=200, help_text="family^given, see clinician.names")
    display = models.CharField(max_length=200, help_text="The name as the manager entered or picked it")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "referring_name_normalised"]
        constraints = [
            models.UniqueConstraint(fields=["user", "referring_name_normalised"], name="one_link_per_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.referring_name_normalised}"


class CriticalEscalation(models.Model):
    """A critical result nobody acknowledged in time; recorded once, shown to the department."""

    critical_result = models.OneToOneField("reporting.CriticalResult", on_delete=models.CASCADE,
                                           related_name="escalation")
    escalated_at = models.DateTimeField()
    minutes_unacknowledged = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Escalation of critical result {self.critical_result_id}"
