from django.contrib import admin

from worklist.models import AuditEvent, Study


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("id", "accession_number", "modality", "status", "urgency_code", "due_at", "reading_state")
    list_filter = ("status", "modality", "reading_state", "urgency_code")
    search_fields = ("accession_number", "patient_id")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action", "study", "remote_addr")
    list_filter = ("action",)
