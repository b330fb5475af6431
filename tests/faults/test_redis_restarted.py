"""Redis (broker and channel layer) restarted during a burst of arrivals.

The app processes use a private redis-server without persistence, killed and started again on
the same port: every queued task and every unacked message is gone, as after a crash. The
studies are in PostgreSQL as "queued"; the sweeper (every 2 s, stall limit 6 s here) sends
them again, and the generation check stops a second analysis of any that did finish.
The test process itself stays on the shared Redis (db of this run); it publishes nothing here.
"""

import signal
import threading
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
from tests.support.faults import private_redis, redis_start
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_studies_arriving_while_redis_restarts_are_each_listed_and_analysed_once(
    orthanc, subprocess_env, service_logs, tmp_path
):
    broker = redis_start(private_redis(service_logs))
    env = fault_env(subprocess_env, tmp_path, REDIS_URL=broker.url, ANALYSIS_STALL_SECONDS="6",
                    FAULT_MODEL_SECONDS="1")
    worker = start_worker(env, service_logs)
    studies = make_studies("REDIS", 10)
    uids = uids_of(studies)

    def burst():
        for study in studies:
            send(study)
            time.sleep(0.5)

    sender = threading.Thread(target=burst)
    try:
        sender.start()
        # Restart once some studies are saved and queued and others are still arriving.
        wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids).count() >= 3, timeout=60,
                   what="the first studies to be ingested")
        broker.stop(signal.SIGKILL)
        time.sleep(3)
        redis_start(broker)
        sender.join()
        wait_all_analysed(uids, timeout=120)
    finally:
        sender.join()
        worker.stop()
        broker.stop()
    assert_each_study_once_analysed_once(uids, tmp_path)
