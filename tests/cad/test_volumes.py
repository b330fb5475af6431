"""Assembling a volume from slices: order by position, HU by rescale, spacing from positions."""

import random

import numpy as np
import pytest

from archive.volumes import VolumeError, volume_from_datasets
from tests.cad.helpers import painted_volume, volume_datasets


def test_shuffled_slices_come_back_in_position_order_with_hu_and_spacing():
    source = painted_volume(shape=(12, 32, 32), spacing=(1.25, 0.7, 0.7))
    source.hu[:, 0, 0] = np.arange(12) * 10  # a ramp that shows the slice order
    datasets = volume_datasets(source)
    for ds in datasets:
        ds.InstanceNumber = 99 - ds.InstanceNumber  # scanners number either way: must not matter
    random.Random(3).shuffle(datasets)

    volume = volume_from_datasets(datasets)

    # Sorted along the slice normal (+z): the source ran from top (z = 30) downwards.
    assert volume.hu.shape == (12, 32, 32)
    assert volume.spacing == pytest.approx((1.25, 0.7, 0.7))
    assert volume.origin[2] == pytest.approx(30 - 11 * 1.25)
    np.testing.assert_array_equal(volume.hu[:, 0, 0], np.arange(12)[::-1] * 10)
    np.testing.assert_array_equal(volume.hu[::-1], source.hu)  # HU through RescaleIntercept -1024
    # Index <-> patient coordinates agree with ImagePositionPatient.
    first = min(datasets, key=lambda ds: float(ds.ImagePositionPatient[2]))
    np.testing.assert_allclose(volume.index_to_lps([0, 0, 0]), [float(v) for v in first.ImagePositionPatient])
    np.testing.assert_allclose(volume.lps_to_index(volume.index_to_lps([3, 4, 5])), [3, 4, 5], atol=1e-9)
    assert volume.sop_instance_uids[0] == first.SOPInstanceUID


def test_the_callers_slices_keep_their_pixels_and_the_header_has_none():
    datasets = volume_datasets(painted_volume(shape=(6, 16, 16), spacing=(2.0, 1.0, 1.0)))
    volume = volume_from_datasets(datasets)
    assert all("PixelData" in ds for ds in datasets)  # a second read of the same slices still works
    assert "PixelData" not in volume.header and volume.header.PatientID == datasets[0].PatientID
    np.testing.assert_array_equal(volume_from_datasets(datasets).hu, volume.hu)


def test_a_missing_slice_is_refused():
    datasets = volume_datasets(painted_volume(shape=(10, 16, 16)))
    del datasets[4]
    with pytest.raises(VolumeError, match="irregular"):
        volume_from_datasets(datasets)


def test_images_without_pixel_data_are_named_as_such():
    datasets = volume_datasets(painted_volume(shape=(10, 16, 16)))
    for ds in datasets[:3]:
        del ds.PixelData
    with pytest.raises(VolumeError, match="3 of 10 images carry no pixel data"):
        volume_from_datasets(datasets)
