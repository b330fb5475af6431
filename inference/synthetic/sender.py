"""C-STORE a study to a DICOM node, and write studies to disk as a dataset."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from .study import SyntheticStudy
from .traffic import StudyRequest

log = logging.getLogger(__name__)


class SendFailed(Exception):
    pass


def store_study(study: SyntheticStudy, *, host: str, port: int, called_aet: str, calling_aet: str = "MODSIM",
                timeout_s: float = 30.0) -> int:
    """Send every instance over one association; returns the number stored, raises SendFailed."""
    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    for sop_class in sorted({str(ds.SOPClassUID) for ds in study.datasets}):
        ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
    assoc = ae.associate(host, port, ae_title=called_aet)
    if not assoc.is_established:
        raise SendFailed(f"association to {called_aet}@{host}:{port} not established")
    stored = 0
    try:
        for ds in study.datasets:
            status = assoc.send_c_store(ds)
            if not status or status.Status not in (0x0000, 0xB000, 0xB007, 0xB006):
                raise SendFailed(f"C-STORE status {getattr(status, 'Status', None)!r}")
            stored += 1
    finally:
        assoc.release()
    return stored


def store_with_retry(study: SyntheticStudy, *, attempts: int = 5, backoff_s: float = 2.0, **kwargs) -> int:
    """Retry a failed association with exponential backoff; re-raise after the last attempt."""
    for attempt in range(1, attempts + 1):
        try:
            return store_study(study, **kwargs)
        except (SendFailed, OSError) as exc:
            if attempt == attempts:
                raise
            wait = backoff_s * 2 ** (attempt - 1)
            log.warning("send of %s failed (attempt %d/%d): %s; retrying in %.0f s",
                        study.truth["order"]["accession_number"], attempt, attempts, exc, wait)
            time.sleep(wait)
    return 0


def write_dataset_entry(study: SyntheticStudy, request: StudyRequest, root: Path, index: int) -> dict:
    """Write one study under root and return its index record (no patient names in the index)."""
    accession = study.truth["order"]["accession_number"]
    folder = study.write(root / f"{index:05d}_{study.kind}_{accession}")
    return {"index": index, "kind": study.kind, "seed": request.seed, "urgent": request.urgent,
            "kwargs": request.kwargs, "accession_number": accession,
            "study_instance_uid": study.study_instance_uid, "path": str(folder.relative_to(root)),
            "instances": len(study.datasets), "lesions": len(study.truth["lesions"]),
            "normal": study.truth["normal"]}


def append_index(root: Path, record: dict) -> None:
    with (root / "index.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
