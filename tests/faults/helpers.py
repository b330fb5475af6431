"""What every fault test needs: app processes configured for faults, and the end-state check."""

from __future__ import annotations

import collections
import os
from pathlib import Path

from django.conf import settings

from inference.models import AnalysisRun
from tests.support import processes
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.processes import wait_until
from worklist.models import Study

MODEL = "tests.faults.fake_models:CountedCt"


def fault_env(subprocess_env: dict, tmp_path: Path, **extra: str) -> dict:
    env = dict(subprocess_env)
    env.update({"CAD_MODELS": MODEL, "FAULT_RUNS_FILE": str(tmp_path / "runs.txt"), "FAULT_MODEL_SECONDS": "1",
                # The sweeper is the last resort; by default keep it out of the way so a test proves
                # the protection it names (redelivery, retry) and not the sweeper.
                "ANALYSIS_STALL_SECONDS": "900", "SWEEP_SECONDS": "2"})
    env.update(extra)
    # To show a test can fail: FAULT_NEGATIVE_ENV="SWEEP_SECONDS=3600" (comma separated) switches a
    # protection off in the app processes (docs/hardening.md lists the ones tried).
    for pair in filter(None, os.environ.get("FAULT_NEGATIVE_ENV", "").split(",")):
        name, _, value = pair.partition("=")
        env[name.strip()] = value.strip()
    return env


def start_worker(env: dict, log_dir: Path) -> processes.ManagedProcess:
    return processes.celery_worker_process(env, log_dir).start()


def make_studies(tag: str, count: int) -> list[list]:
    return [tiny_ct_study(accession=f"ACC-{tag}-{i}", patient_id=f"PID-{tag}-{i}") for i in range(count)]


def send(datasets) -> None:
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def uids_of(studies) -> set[str]:
    return {study[0].StudyInstanceUID for study in studies}


def runs(tmp_path: Path) -> collections.Counter:
    path = tmp_path / "runs.txt"
    lines = path.read_text().split("\n") if path.exists() else []
    return collections.Counter(line for line in lines if line)


def analysed_count(uids: set[str]) -> int:
    return Study.objects.filter(study_instance_uid__in=uids, status="analysed").count()


def wait_all_analysed(uids: set[str], *, timeout: float, what: str = "every study to be analysed") -> None:
    try:
        wait_until(lambda: analysed_count(uids) == len(uids), timeout=timeout, interval=0.5, what=what)
    except TimeoutError as exc:
        states = list(Study.objects.filter(study_instance_uid__in=uids).values_list("accession_number", "status"))
        raise AssertionError(f"{exc}; {len(states)}/{len(uids)} ingested: {sorted(states)}") from None


def assert_each_study_once_analysed_once(uids: set[str], tmp_path: Path, *, model_runs_once: bool = True) -> None:
    """The end state every fault test asks for: on the worklist once, analysed once, nothing lost.

    `model_runs_once=False` where the fault can strike after the model finished but before its
    result was saved: the model must then run again, and only the saved results are counted.
    """
    studies = list(Study.objects.filter(study_instance_uid__in=uids))
    assert sorted(s.study_instance_uid for s in studies) == sorted(uids), "a study was lost or duplicated"
    done = runs(tmp_path)
    for study in studies:
        assert study.status == "analysed", (study.accession_number, study.status, study.status_reason)
        assert study.analysis_generation == study.analysed_generation == 1, study.accession_number
        assert AnalysisRun.objects.filter(study=study).count() == 1
        if model_runs_once:
            # The model finished exactly once for each study: no analysis was duplicated.
            assert done[f"done {study.pk}"] == 1, (study.accession_number, done)
        else:
            assert done[f"done {study.pk}"] >= 1, (study.accession_number, done)
