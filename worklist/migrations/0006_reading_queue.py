from django.db import migrations, models


def queue_existing_studies(apps, schema_editor):
    # Studies already on the worklist get their queue the way triage would give it; the
    # periodic reprioritisation refines it for AI results (triage.priority.reading_queue).
    Study = apps.get_model("worklist", "Study")
    screening = Study.objects.filter(modality__iexact="MG").filter(
        models.Q(study_description__icontains="SCREEN") | models.Q(patient_location__icontains="SCREEN"))
    screening.update(reading_queue="screening")


class Migration(migrations.Migration):

    dependencies = [
        ("worklist", "0005_open_worklist_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="study",
            name="reading_queue",
            field=models.CharField(
                default="general", help_text="general | screening | diagnostic_workup (triage.rules)", max_length=24
            ),
        ),
        migrations.RunPython(queue_existing_studies, migrations.RunPython.noop),
    ]
