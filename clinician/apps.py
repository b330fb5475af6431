from django.apps import AppConfig


class ClinicianConfig(AppConfig):
    name = "clinician"
