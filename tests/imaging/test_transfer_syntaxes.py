"""Every common transfer syntax through the real Orthanc: CAD reads the volume, the viewer gets every slice.

The files are made here from a synthetic CT series: pydicom encodes RLE, JPEG-LS, JPEG 2000, deflate
and big endian itself; DCMTK (dcmcjpeg, dcmcjpls) encodes the JPEG processes pydicom cannot.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from pydicom import uid

from archive import imaging
from archive.volumes import series_volume
from tests.imaging.helpers import archive, ct_slice, dicom_bytes, planes_to_array

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SHAPE = (32, 40)
COUNT = 4


@pytest.fixture(autouse=True)
def _fresh_geometry_cache():
    imaging.geometry_cache_clear()


def _stored(k: int, bits: int) -> np.ndarray:
    """A smooth ramp with a bright square: compresses like an image, differs per slice."""
    rows, cols = SHAPE
    ramp = np.add.outer(np.arange(rows) * 3, np.arange(cols) * 2) + 40 * k
    ramp[8:16, 10:20] += (1 << bits) // 3
    return np.clip(ramp, 0, (1 << bits) - 1).astype(np.uint16)


def _series(bits: int):
    study_uid, series_uid = uid.generate_uid(), uid.generate_uid()
    datasets = []
    for k in range(COUNT):
        ds = ct_slice(_stored(k, bits), position=(-50.0, -60.0, 100.0 - 2.5 * k), number=k + 1,
                      study_uid=study_uid, series_uid=series_uid)
        ds.BitsStored, ds.HighBit = bits, bits - 1
        if bits == 8:
            ds.BitsAllocated = 8
            ds.PixelData = _stored(k, bits).astype(np.uint8).tobytes()
        datasets.append(ds)
    return datasets


def _dcmtk(tool: str, *options: str):
    def encode(ds, tmp_path):
        if not shutil.which(tool):
            pytest.skip(f"{tool} (DCMTK) is not installed")
        source, target = tmp_path / f"{ds.SOPInstanceUID}.dcm", tmp_path / f"{ds.SOPInstanceUID}.out.dcm"
        source.write_bytes(dicom_bytes(ds))
        subprocess.run([tool, *options, str(source), str(target)], check=True, capture_output=True)
        return pydicom.dcmread(target)
    return encode


def _pydicom(syntax, **kwargs):
    def encode(ds, tmp_path):
        ds.compress(syntax, **kwargs)
        return ds
    return encode


def _saved(syntax, **save):
    def encode(ds, tmp_path):
        if not save.get("little_endian", True):
            ds.PixelData = np.frombuffer(ds.PixelData, "<u2").astype(">u2").tobytes()
        ds.file_meta.TransferSyntaxUID = syntax
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True, **save)
        return pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    return encode


# (transfer syntax, bits stored, encoder, largest error allowed in stored values: 0 for lossless,
# for the lossy codecs about 1 % of the stored range)
CASES = [
    (uid.JPEGBaseline8Bit, 8, _dcmtk("dcmcjpeg", "+eb", "+q", "95"), 8),
    (uid.JPEGExtended12Bit, 12, _dcmtk("dcmcjpeg", "+ee", "+q", "95"), 40),
    (uid.JPEGLossless, 16, _dcmtk("dcmcjpeg", "+el"), 0),
    (uid.JPEGLosslessSV1, 16, _dcmtk("dcmcjpeg", "+e1"), 0),
    (uid.JPEGLSLossless, 16, _pydicom(uid.JPEGLSLossless), 0),
    (uid.JPEGLSNearLossless, 12, _dcmtk("dcmcjpls", "+en", "+md", "2"), 2),
    (uid.JPEG2000Lossless, 16, _pydicom(uid.JPEG2000Lossless), 0),
    (uid.JPEG2000, 12, _pydicom(uid.JPEG2000, j2k_psnr=[60]), 40),
    (uid.RLELossless, 16, _pydicom(uid.RLELossless), 0),
    (uid.DeflatedExplicitVRLittleEndian, 16, _saved(uid.DeflatedExplicitVRLittleEndian), 0),
    (uid.ExplicitVRBigEndian, 16, _saved(uid.ExplicitVRBigEndian, little_endian=False, implicit_vr=False), 0),
    (uid.ImplicitVRLittleEndian, 16, _saved(uid.ImplicitVRLittleEndian, implicit_vr=True), 0),
]


@pytest.mark.parametrize(("syntax", "bits", "encode", "tolerance"), CASES, ids=[c[0].name for c in CASES])
def test_cad_and_the_viewer_read_every_transfer_syntax(syntax, bits, encode, tolerance, tmp_path, orthanc,
                                                       api_as, radiologist):
    datasets = [encode(ds, tmp_path) for ds in _series(bits)]
    assert {str(ds.file_meta.TransferSyntaxUID) for ds in datasets} == {syntax}
    _, series = archive(datasets)
    expected = np.stack([_stored(k, bits).astype(np.int32) - 1024 for k in range(COUNT)])  # head first

    volume = series_volume(series.orthanc_id)  # what CAD reads: feet first, along +z
    assert volume.hu.shape == (COUNT, *SHAPE)
    assert int(np.abs(volume.hu.astype(np.int32) - expected[::-1]).max()) <= tolerance

    client = api_as(radiologist)
    geometry = client.get(f"/api/studies/{series.study_id}/series/{series.pk}/geometry/")
    assert geometry.status_code == 200, geometry.content
    ids = [s["id"] for s in geometry.json()["slices"]]
    response = client.get(f"/api/studies/{series.study_id}/series/{series.pk}/pixels/?ids={','.join(ids)}",
                          HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "X-Slice-Errors" not in response
    shown = planes_to_array(gzip.decompress(response.content), count=COUNT, rows=SHAPE[0], columns=SHAPE[1],
                            dtype=geometry.json()["dtype"])
    assert int(np.abs(shown.astype(np.int32) - expected).max()) <= tolerance
