"""State of reporting that is not a signed report: the reader's unsigned draft, what the reader could view."""

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
