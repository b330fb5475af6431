"""State of reporting that is not a signed report: the reader's unsigned draft."""

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
