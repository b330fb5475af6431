from triage.models import UrgencyClass
from triage.priority import DEFAULT_TARGETS, Target


def urgency_targets() -> dict[str, Target]:
    """Targets keyed by code: the manager's rows over the built-in defaults."""
    targets = dict(DEFAULT_TARGETS)
    targets.update({row.code: row.as_target() for row in UrgencyClass.objects.all()})
    return targets
