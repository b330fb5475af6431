"""CriticalResult moved to reporting (issue 15): the foreign key follows it, the table is unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clinician', '0001_initial'),
        ('reporting', '0003_reports_from_worklist'),
    ]

    operations = [
        # State only: the column already references the same table, now owned by reporting.
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='criticalescalation',
                    name='critical_result',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='escalation', to='reporting.criticalresult'),
                ),
            ],
        ),
    ]
