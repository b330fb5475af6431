from django.db import models

from triage.priority import AGEING_MODES, DEFAULT_POLICY, OrderPolicy, Target


class UrgencyClass(models.Model):
    """An urgency class, its turnaround target and its age ceiling, editable by a manager.

    Defaults are seeded by migrations 0002 and 0003 (figures in triage.priority
    DEFAULT_TARGETS). The priority code reads these rows through
    ``triage.selectors.urgency_targets`` and falls back to the defaults for a
    class that is missing, so deleting a row never hides a study.
    """

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(help_text="Lower is more urgent; breaks ties between equal targets.")
    target_minutes = models.PositiveIntegerField(help_text="Arrival to signed report.")
    ceiling_minutes = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Age ceiling: the longest a study of this class should wait to be started before it is moved up "
                  "(empty: its target). Shorter than the target to bound the wait of the AI's misses.",
    )
    description = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("rank",)
        verbose_name_plural = "urgency classes"

    def __str__(self) -> str:
        return f"{self.name} ({self.target_minutes} min)"

    def as_target(self) -> Target:
        return Target(code=self.code, name=self.name, rank=self.rank, minutes=self.target_minutes,
                      ceiling_minutes=self.ceiling_minutes)


class AgeingPolicy(models.Model):
    """How age moves studies up the worklist: one row, edited by a manager with the targets.

    Read through ``triage.selectors.order_policy``; without a row the built-in default applies."""

    mode = models.CharField(max_length=16, choices=[(m, m) for m in AGEING_MODES], default=DEFAULT_POLICY.mode,
                            help_text="ceiling: ordered by the earlier of due time and age ceiling; promote: past "
                                      "its ceiling a study goes first, oldest first; off: due time only")
    score_weight = models.FloatField(
        default=DEFAULT_POLICY.score_weight,
        help_text="0-1: how much AI suspicion below its threshold shortens the age ceiling")
    unscored_closeness = models.FloatField(
        default=DEFAULT_POLICY.unscored_closeness,
        help_text="0-1: the suspicion share assumed for a study no model scored (AI failed or none applies)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "ageing policy"

    def __str__(self) -> str:
        return f"ageing {self.mode}, score weight {self.score_weight:g}"

    def as_policy(self) -> OrderPolicy:
        return OrderPolicy(mode=self.mode, score_weight=self.score_weight, unscored_closeness=self.unscored_closeness)
