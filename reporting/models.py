from django.conf import settings
from django.db import models


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
