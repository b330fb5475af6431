"""ReportVersion moved to reporting (issue 15): the foreign key follows it, the table is unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('priors', '0001_initial'),
        ('reporting', '0003_reports_from_worklist'),
    ]

    operations = [
        # State only: the column already references the same table, now owned by reporting.
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='priorreport',
                    name='report_version',
                    field=models.ForeignKey(blank=True, help_text='Signed here: the version mined', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='reporting.reportversion'),
                ),
            ],
        ),
    ]
