"""Issue 15: reporting takes over findings review, reports, report versions and critical results.

Only Django's picture of the models changes owner (state_operations); the tables, their rows, ids,
constraints and foreign keys stay exactly as worklist created them (Meta.db_table keeps the
worklist_ names), so nothing is copied and nothing can be lost. worklist 0012 removes the models
from worklist's state once clinician and priors point their foreign keys here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inference', '0002_analysisrun_refused_status'),
        ('reporting', '0002_image_view'),
        ('worklist', '0011_alert_order_patient_mismatch'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Report',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('study', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='report', to='worklist.study')),
                    ],
                    options={
                        'db_table': 'worklist_report',
                    },
                ),
                migrations.CreateModel(
                    name='ReportVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField()),
                        ('template', models.CharField(max_length=16)),
                        ('fields', models.JSONField(default=dict)),
                        ('text', models.TextField()),
                        ('reading_mode', models.CharField(max_length=16)),
                        ('signed_at', models.DateTimeField()),
                        ('critical', models.BooleanField(default=False)),
                        ('amendment_reason', models.CharField(blank=True, max_length=300)),
                        ('override_reason', models.CharField(blank=True, max_length=500)),
                        ('overridden', models.JSONField(blank=True, default=list)),
                        ('archive_instance_id', models.CharField(blank=True, help_text='Orthanc id of the DICOM PDF', max_length=64)),
                        ('archive_error', models.CharField(blank=True, max_length=300)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
                        ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='reporting.report')),
                    ],
                    options={
                        'db_table': 'worklist_reportversion',
                        'ordering': ['report', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('report', 'number'), name='report_version_number')],
                    },
                ),
                migrations.CreateModel(
                    name='CriticalResult',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('note', models.CharField(max_length=300)),
                        ('flagged_at', models.DateTimeField(auto_now_add=True)),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                        ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('flagged_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('study', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='critical_results', to='worklist.study')),
                        ('report_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='reporting.reportversion')),
                    ],
                    options={
                        'db_table': 'worklist_criticalresult',
                    },
                ),
                migrations.CreateModel(
                    name='FindingReview',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('finding_index', models.PositiveIntegerField(blank=True, null=True)),
                        ('decision', models.CharField(choices=[('accepted', 'Accepted'), ('rejected', 'Rejected'), ('edited', 'Edited'), ('added', 'Added by the reader (AI missed it)')], max_length=16)),
                        ('finding_type', models.CharField(blank=True, max_length=32)),
                        ('diameter_mm', models.FloatField(blank=True, null=True)),
                        ('centre_mm', models.JSONField(blank=True, help_text='[x, y, z] in patient mm (LPS), or empty', null=True)),
                        ('site', models.JSONField(blank=True, null=True)),
                        ('note', models.CharField(blank=True, max_length=300)),
                        ('reviewed_at', models.DateTimeField(auto_now=True)),
                        ('analysis', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reviews', to='inference.analysisrun')),
                        ('reviewer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
                        ('study', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='finding_reviews', to='worklist.study')),
                    ],
                    options={
                        'db_table': 'worklist_findingreview',
                        'constraints': [models.UniqueConstraint(condition=models.Q(('analysis__isnull', False)), fields=('analysis', 'finding_index'), name='one_review_per_ai_finding')],
                    },
                ),
            ],
        ),
    ]
