"""Issue 19, unit level: slices decoded while a series arrives give the same volume as fetching
it at the end, and the analysis then fetches none of them again. Orthanc's answers are stubbed
(bench/bench_pipeline.py measures the real thing)."""

import io

import numpy as np
import pytest

from archive import prefetch, volumes
from inference.synthetic import generate_study


@pytest.fixture
def archive(monkeypatch, settings, tmp_path):
    settings.PREFETCH_DIR = str(tmp_path)
    study = generate_study("chest_ct", seed=5, matrix=48, slices=12)
    files = {}
    for index, ds in enumerate(study.datasets):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        files[f"i{index}"] = buffer.getvalue()
    arrived = list(files)
    fetched = []

    def get_binary(endpoint):
        fetched.append(endpoint)
        return files[endpoint.split("/")[1]]

    def get_json(endpoint):
        if endpoint.startswith("series/"):
            return {"Instances": list(arrived)}
        return {"Rows": 48, "Columns": 48}

    for module in (prefetch, volumes):
        monkeypatch.setattr(module, "get_binary", get_binary)
        monkeypatch.setattr(module, "get_json", get_json)
    return {"fetched": fetched, "arrived": arrived, "all": list(files)}


def test_a_prefetched_series_gives_the_same_volume_without_fetching_again(archive):
    reference = volumes.series_volume("S")  # nothing prefetched: every instance fetched
    assert len(archive["fetched"]) == 12
    archive["fetched"].clear()

    assert prefetch.series_prefetch_step("S") == (12, 12, 12)
    assert prefetch.series_prefetch_step("S") == (12, 0, 12)  # a second step decodes nothing again
    archive["fetched"].clear()
    volume = volumes.series_volume("S")

    assert archive["fetched"] == []
    assert np.array_equal(volume.hu, reference.hu)
    assert volume.sop_instance_uids == reference.sop_instance_uids
    assert np.allclose(volume.origin, reference.origin) and volume.spacing == reference.spacing
    assert volume.header.PatientID == reference.header.PatientID and "PixelData" not in volume.header


def test_instances_not_prefetched_are_fetched_and_the_cache_is_read_once(archive):
    archive["arrived"][:] = archive["all"][:8]  # the last prefetch step saw 8 (the modality paused)
    assert prefetch.series_prefetch_step("S") == (8, 8, 8)
    archive["arrived"][:] = archive["all"]
    archive["fetched"].clear()

    volume = volumes.series_volume("S")

    assert sorted(archive["fetched"]) == sorted(f"instances/{i}/file" for i in archive["all"][8:])
    assert volume.hu.shape == (12, 48, 48)
    archive["fetched"].clear()
    volumes.series_volume("S")
    assert len(archive["fetched"]) == 12  # a re-analysis reads the archive again


def test_the_cache_is_readable_by_the_workers_account_only(archive, settings, tmp_path):
    settings.PREFETCH_DIR = str(tmp_path / "cache")  # headers name the patient
    prefetch.series_prefetch_step("S")
    assert (tmp_path / "cache").stat().st_mode & 0o077 == 0
