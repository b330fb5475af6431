"""A Celery worker killed with SIGKILL in the middle of an analysis.

The task is acknowledged late, so its message stays in Redis's unacked set while the model
runs; when the worker vanishes, Redis hands it to the next worker after the visibility
timeout. The sweeper is held off (900 s), so only redelivery can save the study here.
"""

import signal

import pytest

from tests.faults.helpers import (
    assert_each_study_once_analysed_once,
    fault_env,
    make_studies,
    runs,
    send,
    start_worker,
    uids_of,
    wait_all_analysed,
)
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_analysis_is_replaced_and_each_study_is_analysed_once(
    orthanc, subprocess_env, service_logs, tmp_path
):
    env = fault_env(subprocess_env, tmp_path, FAULT_MODEL_SECONDS="5", CELERY_VISIBILITY_TIMEOUT="6")
    worker = start_worker(env, service_logs)
    studies = make_studies("KILL", 3)
    uids = uids_of(studies)
    try:
        for study in studies:
            send(study)
        victim = wait_until(
            lambda: Study.objects.filter(study_instance_uid__in=uids, status="analysing").first(),
            timeout=60, interval=0.2, what="an analysis to start")
        wait_until(lambda: runs(tmp_path)[f"start {victim.pk}"] == 1, timeout=10, what="the model to run")
        # The whole worker (main process, pool child and its beat) dies at once, as on an OOM kill.
        worker.stop(signal.SIGKILL)
        assert runs(tmp_path)[f"done {victim.pk}"] == 0, "the analysis finished before the kill"

        worker = start_worker(env, service_logs)
        wait_all_analysed(uids, timeout=90)
    finally:
        worker.stop()
    assert_each_study_once_analysed_once(uids, tmp_path)
    # The killed run was started again, and finished once.
    assert runs(tmp_path)[f"start {victim.pk}"] == 2
