from django.contrib import admin

from clinician.models import CriticalEscalation, ReferrerLink
from clinician.names import referrer_parse_typed


@admin.register(ReferrerLink)
class ReferrerLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "referring_name_normalised", "display", "created_by", "created_at")
    search_fields = ("user__username", "referring_name_normalised", "display")
    readonly_fields = ("referring_name_normalised", "created_by", "created_at")
    fields = ("user", "display", "referring_name_normalised", "created_by", "created_at")

    def save_model(self, request, obj, form, change):
        # The key is always derived from the name entered, by the same rule as everywhere else.
        obj.referring_name_normalised = referrer_parse_typed(obj.display).key
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CriticalEscalation)
class CriticalEscalationAdmin(admin.ModelAdmin):
    list_display = ("critical_result", "escalated_at", "minutes_unacknowledged")
