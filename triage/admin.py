from django.contrib import admin

from triage.models import AgeingPolicy, UrgencyClass


@admin.register(UrgencyClass)
class UrgencyClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "rank", "target_minutes", "ceiling_minutes", "updated_at")
    list_editable = ("name", "rank", "target_minutes", "ceiling_minutes")
    ordering = ("rank",)
    readonly_fields = ("updated_at",)


@admin.register(AgeingPolicy)
class AgeingPolicyAdmin(admin.ModelAdmin):
    list_display = ("mode", "score_weight", "unscored_closeness", "updated_at")
    readonly_fields = ("updated_at",)
