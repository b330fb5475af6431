"""Settings of the clinician side. The lead's settings module may set them; otherwise the environment does."""

from django.conf import settings

from config.env import env_bool, env_int


def show_ai_before_signing() -> bool:
    # Off by default: a referring clinician acting on an unconfirmed AI finding is the risk to avoid.
    return getattr(settings, "CLINICIAN_SHOW_AI_BEFORE_SIGNING", None) or env_bool(
        "CLINICIAN_SHOW_AI_BEFORE_SIGNING", False)


def critical_escalation_minutes() -> int:
    value = getattr(settings, "CLINICIAN_CRITICAL_ESCALATION_MINUTES", None)
    return int(value) if value is not None else env_int("CLINICIAN_CRITICAL_ESCALATION_MINUTES", 60)
