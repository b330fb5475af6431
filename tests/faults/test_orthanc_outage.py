"""Orthanc stopped while studies are being analysed and while one is still arriving.

The outage lasts a minute; the path is the same for any length: the follower logs "change
feed not read" and keeps its cursor, the analysis raises OrthancUnavailable and Celery retries
it with exponential backoff (2 s, 4 s, 8 s, ... capped at 120 s, 8 retries ≈ 8 minutes), and
the sweeper covers anything longer. The study still arriving when Orthanc stops never gets a
StableStudy change; the follower's pending check ingests it.
"""

import time

import pytest

from tests.faults.helpers import (
    assert_each_study_once_analysed_once,
    fault_env,
    make_studies,
    send,
    start_worker,
    uids_of,
    wait_all_analysed,
)
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 60


def test_an_orthanc_outage_delays_analyses_but_loses_none(orthanc, subprocess_env, service_logs, tmp_path):
    env = fault_env(subprocess_env, tmp_path, FAULT_MODEL_SECONDS="3")
    worker = start_worker(env, service_logs)
    first, second, late = make_studies("PACS", 3)
    try:
        send(first)
        send(second)
        wait_until(lambda: Study.objects.filter(status="analysing").exists(), timeout=60,
                   what="an analysis to start")
        # A study arrives just before the outage: stored, but not yet declared stable.
        send(late)
        orthanc.stop()
        time.sleep(OUTAGE_SECONDS)
        orthanc.start()
        wait_all_analysed(uids_of([first, second, late]), timeout=180)
    finally:
        worker.stop()
        if not orthanc.alive():
            orthanc.start()
    assert_each_study_once_analysed_once(uids_of([first, second, late]), tmp_path)
