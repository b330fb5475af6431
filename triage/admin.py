from django.contrib import admin

from triage.models import UrgencyClass


@admin.register(UrgencyClass)
class UrgencyClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "rank", "target_minutes", "updated_at")
    list_editable = ("name", "rank", "target_minutes")
    ordering = ("rank",)
    readonly_fields = ("updated_at",)
