"""The database briefly refusing connections (a restart, a failover).

The worker reaches PostgreSQL through a TCP proxy that the test cuts for a few seconds: open
connections are reset and new ones refused, while studies are arriving and being analysed.
The test process talks to PostgreSQL directly. The sweeper is held off (900 s), so the
studies must come through on the tasks' own handling of the outage.
"""

import time

import pytest
from django.db import connection

from tests.faults.helpers import (
    assert_each_study_once_analysed_once,
    fault_env,
    make_studies,
    send,
    start_worker,
    uids_of,
    wait_all_analysed,
)
from tests.support.faults import TcpProxy, database_url_via
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUT_SECONDS = 5


def test_a_database_outage_of_a_few_seconds_loses_no_study_and_duplicates_no_analysis(
    orthanc, subprocess_env, service_logs, tmp_path
):
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
    env = fault_env(subprocess_env, tmp_path, DATABASE_URL=database_url_via(proxy, subprocess_env["DATABASE_URL"]),
                    FAULT_MODEL_SECONDS="2")
    worker = start_worker(env, service_logs)
    first, second = make_studies("DB-1", 2), make_studies("DB-2", 2)
    try:
        for study in first:
            send(study)
        wait_until(lambda: Study.objects.filter(status="analysing").exists(), timeout=60,
                   what="an analysis to start")
        proxy.cut()
        # Studies keep arriving in Orthanc while the database is away.
        for study in second:
            send(study)
        time.sleep(CUT_SECONDS)
        proxy.restore()
        wait_all_analysed(uids_of(first + second), timeout=90)
    finally:
        worker.stop()
        proxy.stop()
    # The cut may fall between a model finishing and its result being saved; that run is redone.
    assert_each_study_once_analysed_once(uids_of(first + second), tmp_path, model_runs_once=False)
