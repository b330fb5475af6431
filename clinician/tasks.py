from celery import shared_task

from clinician.services import critical_results_escalate


@shared_task(name="clinician.tasks.escalate_unacknowledged_critical_results")
def escalate_unacknowledged_critical_results() -> int:
    # Idempotent: each critical result is escalated once, whichever run gets there first.
    return critical_results_escalate()
