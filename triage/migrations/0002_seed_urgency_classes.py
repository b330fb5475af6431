"""Seed the default urgency classes.

Targets follow the Canadian Wait Time Alliance (P1 emergent 1 h, P2 urgent
12 h, P3/P4 4 days) and common department aims (emergency department
30-60 min, inpatients 4-12 h); see /work/shared/DOMAIN.md. Urgent outpatients
get 24 h, looser than WTA P2. The figures are copied here, not imported from
triage.priority, so that later edits to the defaults do not rewrite history.
"""

from django.db import migrations

DEFAULTS = [
    (
        "stat",
        "STAT",
        10,
        60,
        "STAT orders and emergency department patients (WTA P1 emergent: 1 h).",
    ),
    (
        "ai_critical",
        "AI critical",
        20,
        60,
        "AI found an emergency (bleed, pneumothorax) or Lung-RADS 4B/4X: 1 h.",
    ),
    ("inpatient", "Inpatient", 30, 4 * 60, "Inpatients: department aim 4-12 h; 4 h."),
    (
        "urgent",
        "Urgent",
        40,
        24 * 60,
        "HIGH/ASAP outpatient orders and AI-suspicious findings (Lung-RADS 4A, BI-RADS 4/5, PI-RADS 4/5): 24 h.",
    ),
    (
        "routine",
        "Routine",
        50,
        4 * 24 * 60,
        "Routine outpatient and screening work (WTA P3/P4: 4 days).",
    ),
]


def seed(apps, schema_editor):
    UrgencyClass = apps.get_model("triage", "UrgencyClass")
    for code, name, rank, minutes, description in DEFAULTS:
        # get_or_create so a manager's edits survive re-running migrations.
        UrgencyClass.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "target_minutes": minutes,
                "description": description,
            },
        )


def unseed(apps, schema_editor):
    UrgencyClass = apps.get_model("triage", "UrgencyClass")
    UrgencyClass.objects.filter(code__in=[row[0] for row in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = (("triage", "0001_initial"),)

    operations = (migrations.RunPython(seed, unseed),)
