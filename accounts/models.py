from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    RADIOLOGIST = "radiologist", "Radiologist"
    MANAGER = "manager", "Department manager"
    CLINICIAN = "clinician", "Referring clinician"
    INTERFACE = "interface", "System interface (RIS orders)"


class User(AbstractUser):
    """A person using the application; what they may see follows from `role`."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)

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
