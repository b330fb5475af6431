from django import forms
from django.contrib import admin

from triage.models import AgeingPolicy, UrgencyClass
from triage.priority import policy_check, targets_check


class UrgencyClassForm(forms.ModelForm):
    """The targets editor's rules here too: inconsistent targets are refused."""

    class Meta:
        model = UrgencyClass
        fields = ("code", "name", "rank", "target_minutes", "ceiling_minutes", "description")

    def clean(self):
        data = super().clean()
        from triage.selectors import urgency_targets

        row = UrgencyClass(**{k: v for k, v in data.items() if k in {"code", "name", "rank", "target_minutes",
                                                                      "ceiling_minutes"}})
        if row.code and row.rank is not None and row.target_minutes:
            targets = urgency_targets()
            targets[row.code] = row.as_target()
            errors, _ = targets_check(targets)
            if errors:
                raise forms.ValidationError(errors)
        return data


class AgeingPolicyForm(forms.ModelForm):
    class Meta:
        model = AgeingPolicy
        fields = ("mode", "score_weight", "unscored_closeness")

    def clean(self):
        data = super().clean()
        errors = policy_check(AgeingPolicy(**data).as_policy())
        if errors:
            raise forms.ValidationError(errors)
        return data


@admin.register(UrgencyClass)
class UrgencyClassAdmin(admin.ModelAdmin):
    form = UrgencyClassForm
    list_display = ("code", "name", "rank", "target_minutes", "ceiling_minutes", "updated_at")
    # Targets and ceilings are edited one row at a time (the form checks them against the other classes).
    list_editable = ("name",)
    ordering = ("rank",)
    readonly_fields = ("updated_at",)


@admin.register(AgeingPolicy)
class AgeingPolicyAdmin(admin.ModelAdmin):
    form = AgeingPolicyForm
    list_display = ("mode", "score_weight", "unscored_closeness", "updated_at")
    readonly_fields = ("updated_at",)
