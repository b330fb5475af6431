"""Modality simulator: send synthetic studies to Orthanc over C-STORE with Poisson arrivals,
or write a dataset to disk with --out.

    python manage.py send_studies --rate 120/h --mix department --duration 10m --seed 1
    python manage.py send_studies --out var/dataset --count 200 --mix lung --matrix 256
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inference.synthetic import arrivals, department_mix, generate_study, parse_duration, parse_rate
from inference.synthetic.sender import append_index, store_with_retry, write_dataset_entry

log = logging.getLogger("inference.send_studies")


class Command(BaseCommand):
    help = "Send synthetic DICOM studies to Orthanc (C-STORE) with Poisson arrivals, or write them to --out."

    def add_arguments(self, parser):
        parser.add_argument("--rate", default="60/h", help="mean arrival rate, e.g. 120/h or 2/min")
        parser.add_argument("--mix", default="department", help="department | lung | screening | cad | kind=w,...")
        parser.add_argument("--duration", default=None, help="stop after this long, e.g. 10m, 1h, 30s")
        parser.add_argument("--count", type=int, default=None, help="stop after N studies")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--urgent-share", type=float, default=0.2)
        parser.add_argument("--matrix", type=int, default=None, help="in-plane matrix for chest CT (e.g. 256)")
        parser.add_argument("--speed", type=float, default=1.0, help="time compression: 10 = ten times faster")
        parser.add_argument("--backlog", type=int, default=0,
                            help="send the first N studies at once (a demo starts with a waiting worklist)")
        parser.add_argument("--out", default=None, help="write studies here instead of sending")
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--aet", default=None, help="called AE title (Orthanc)")
        parser.add_argument("--calling-aet", default="MODSIM")

    def handle(self, *args, **opts):
        # pynetdicom logs every C-STORE at INFO; one line per study is what operators need.
        logging.getLogger("pynetdicom").setLevel(logging.WARNING)
        try:
            mix = department_mix(opts["mix"])
            rate = parse_rate(opts["rate"])
            duration = parse_duration(opts["duration"]) if opts["duration"] else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if duration is None and opts["count"] is None:
            raise CommandError("give --count N or --duration (e.g. 10m)")
        out = Path(opts["out"]) if opts["out"] else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        target = {
            "host": opts["host"] or getattr(settings, "ORTHANC_DICOM_HOST", "127.0.0.1"),
            "port": opts["port"] or int(getattr(settings, "ORTHANC_DICOM_PORT", 4242)),
            "called_aet": opts["aet"] or getattr(settings, "ORTHANC_DICOM_AET", "ORTHANC"),
            "calling_aet": opts["calling_aet"],
        }
        schedule = arrivals(opts["seed"], rate_per_s=rate, mix=mix, urgent_share=opts["urgent_share"],
                            duration_s=duration, count=opts["count"], ct_matrix=opts["matrix"])
        start = time.monotonic()
        sent = failed = 0
        offset = 0.0
        for index, (at, request) in enumerate(schedule):
            if index < opts["backlog"]:
                offset = at  # the backlog goes out at once; later arrivals keep their spacing
            if out is None:  # writing a dataset needs no waiting
                delay = (at - offset) / opts["speed"] - (time.monotonic() - start)
                if delay > 0:
                    time.sleep(delay)
            began = time.monotonic()
            kwargs = dict(request.kwargs)
            if out is None:
                # A live modality acquires now; a training dataset keeps its seeded dates.
                kwargs.setdefault("study_datetime", datetime.now().replace(microsecond=0))
            study = generate_study(request.kind, seed=request.seed, **kwargs)
            accession = study.truth["order"]["accession_number"]
            priority = study.truth["order"]["priority"]
            try:
                if out is not None:
                    append_index(out, write_dataset_entry(study, request, out, index))
                else:
                    store_with_retry(study, **target)
            except Exception as exc:  # noqa: BLE001 - one failed study must never stop the simulator
                failed += 1
                log.error("study %s %s failed: %s", study.kind, accession, exc)
                self.stderr.write(f"FAILED {study.kind} accession={accession}: {exc}")
                continue
            sent += 1
            self.stdout.write(f"{'wrote' if out else 'sent'} {study.kind:<13} accession={accession} "
                              f"priority={priority:<7} instances={len(study.datasets):<4} "
                              f"seconds={time.monotonic() - began:.1f} t={at:.0f}s")
        self.stdout.write(f"done: {sent} studies, {failed} failed")
