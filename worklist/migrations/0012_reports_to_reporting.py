"""Issue 15: findings review, reports, report versions and critical results now belong to reporting.

State only: the tables stay (reporting's models use them under the same names, see
reporting 0003), so this removes the models from worklist's picture without touching a row. It
runs after clinician and priors have pointed their foreign keys at reporting's models.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clinician', '0002_critical_result_in_reporting'),
        ('priors', '0002_report_version_in_reporting'),
        ('reporting', '0003_reports_from_worklist'),
        ('worklist', '0011_alert_order_patient_mismatch'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                # Those that point at others first.
                migrations.DeleteModel(name='CriticalResult'),
                migrations.DeleteModel(name='FindingReview'),
                migrations.DeleteModel(name='ReportVersion'),
                migrations.DeleteModel(name='Report'),
            ],
        ),
    ]
