from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    RADIOLOGIST = "radiologist", "Radiologist"
    MANAGER = "manager", "Department manager"
    CLINICIAN = "clinician", "Referring clinician"
    INTERFACE = "interface", "System interface (RIS orders)"


class ReadingMode(models.TextChoices):
    """How a radiologist meets the AI's marks (CAD literature): during the read, or after it."""

    CONCURRENT = "concurrent", "Concurrent reader (marks shown at once)"
    SECOND_READER = "second_reader", "Second reader (marks after the first read)"


class User(AbstractUser):
    """A person using the application; what they may see follows from `role`."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    reading_mode = models.CharField(max_length=16, choices=ReadingMode.choices, default=ReadingMode.CONCURRENT)
    # Set by a manager: a supervising radiologist may amend reports other radiologists signed
    # (reporting/amend.py states the rule).
    is_supervisor = models.BooleanField(default=False, help_text="Radiologist who may amend colleagues' reports")

    @property
    def is_radiologist(self) -> bool:
        return self.role == Role.RADIOLOGIST

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def reads_worklist(self) -> bool:
        # Managers see the department's worklist (to reassign); clinicians never do.
        return self.role in (Role.RADIOLOGIST, Role.MANAGER)


class ApiToken(models.Model):
    """An API token, stored as its SHA-256 digest only; it expires, and a password change revokes it
    (accounts.tokens). The key itself is shown once, when it is issued."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"API token of {self.user_id}, expires {self.expires_at:%Y-%m-%d}"
