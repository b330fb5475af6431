from django.contrib import admin

from priors.models import PriorReport


@admin.register(PriorReport)
class PriorReportAdmin(admin.ModelAdmin):
    list_display = ("study_date", "accession_number", "source", "birads", "density", "study")
    list_filter = ("source", "birads", "density")
    search_fields = ("accession_number", "patient_id")
    raw_id_fields = ("study", "report_version")
