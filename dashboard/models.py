from django.conf import settings
from django.db import models


class DoseReferenceLevel(models.Model):
    """The department's reference level for one CT protocol (a local diagnostic reference level).

    A study above either value is listed as a dose outlier for the manager to look into. The
    protocol is the study description as the modality sends it, the key the department's CT
    protocols are known by.
    """

    protocol = models.CharField(max_length=200, unique=True)
    ctdi_vol_mgy = models.FloatField(null=True, blank=True, help_text="CTDIvol reference, mGy")
    dlp_mgy_cm = models.FloatField(null=True, blank=True, help_text="DLP reference, mGy·cm")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["protocol"]

    def __str__(self) -> str:
        return f"{self.protocol}: CTDIvol {self.ctdi_vol_mgy} mGy, DLP {self.dlp_mgy_cm} mGy·cm"
