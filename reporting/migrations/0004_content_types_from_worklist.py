"""Issue 15: the moved models' content types change app label, worklist -> reporting.

Permissions (auth_permission) and admin log entries refer to the content type's id, so relabelling
the row in place keeps every granted permission. A database where a reporting row already exists
(created by post_migrate before this ran) keeps it and leaves the worklist row alone.
"""

from django.db import migrations

MODELS = ("findingreview", "report", "reportversion", "criticalresult")


def relabel(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if content_type.objects.filter(app_label=target, model=model).exists():
            continue
        content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor) -> None:
    relabel(apps, "worklist", "reporting")


def backwards(apps, schema_editor) -> None:
    relabel(apps, "reporting", "worklist")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('reporting', '0003_reports_from_worklist'),
        ('worklist', '0012_reports_to_reporting'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
