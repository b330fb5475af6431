from triage.models import AgeingPolicy, UrgencyClass
from triage.priority import DEFAULT_POLICY, DEFAULT_TARGETS, OrderPolicy, Target


def urgency_targets() -> dict[str, Target]:
    """Targets keyed by code: the manager's rows over the built-in defaults."""
    targets = dict(DEFAULT_TARGETS)
    targets.update({row.code: row.as_target() for row in UrgencyClass.objects.all()})
    return targets


def order_policy() -> OrderPolicy:
    """The manager's ageing policy, or the built-in default."""
    row = AgeingPolicy.objects.order_by("pk").first()
    return row.as_policy() if row is not None else DEFAULT_POLICY
