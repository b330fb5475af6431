"""Series geometry and slice decoding, without the archive."""

import gzip
import random

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import RLELossless

from archive.decoding import frame_attribute, split_frames
from archive.imaging import (
    ImagingUnsupported,
    check_displayable,
    decode_slice,
    encode_planes,
    gzip_bytes,
    order_slices,
    output_dtype,
    rescale_frame,
)
from archive.volumes import volume_from_datasets
from tests.imaging.helpers import ct_series, ct_slice, planes_to_array


def orthanc_instance(instance_id: str, *, number: int, position, orientation=(1, 0, 0, 0, 1, 0)) -> dict:
    """The shape of one item of Orthanc's series/{id}/instances."""
    tags = {"InstanceNumber": str(number)}
    if position is not None:
        tags["ImagePositionPatient"] = "\\".join(str(v) for v in position)
        tags["ImageOrientationPatient"] = "\\".join(str(v) for v in orientation)
    return {"ID": instance_id, "MainDicomTags": tags}


def test_axial_slices_are_ordered_head_first_by_position_not_by_number_or_arrival():
    # Instance numbers run against the positions, and the archive lists them shuffled.
    zs = [-150.0, -147.5, -145.0, -142.5, -140.0]
    instances = [orthanc_instance(f"i{k}", number=k + 1, position=(-10, -20, z)) for k, z in enumerate(zs)]
    random.Random(4).shuffle(instances)
    slices, orientation, uniform = order_slices(instances)
    assert [s.position[2] for s in slices] == sorted(zs, reverse=True)
    assert [s.instance_id for s in slices] == ["i4", "i3", "i2", "i1", "i0"]
    assert orientation == (1, 0, 0, 0, 1, 0) and uniform


def test_ordering_follows_the_slice_normal_of_an_oblique_stack():
    # Columns tilted 0.6 rad out of the axial plane; the positions climb the normal while z falls, so
    # sorting by z (or SliceLocation-like shortcuts) would give the reverse order.
    col = (0.0, float(np.cos(0.6)), -float(np.sin(0.6)))
    normal = np.cross([1.0, 0.0, 0.0], col)  # (0, sin, cos): mostly z, so head first applies
    instances = [orthanc_instance(f"s{k}", number=k + 1, position=(0.0, 10.0 * k, -1.0 * k),
                                  orientation=(1, 0, 0, *col)) for k in range(4)]
    random.Random(1).shuffle(instances)
    slices, _, _ = order_slices(instances)
    assert [s.instance_id for s in slices] == ["s3", "s2", "s1", "s0"]
    distances = [float(np.dot(s.position, normal)) for s in slices]
    assert distances == sorted(distances, reverse=True)


def test_coronal_slices_run_anterior_to_posterior():
    instances = [orthanc_instance(f"c{k}", number=10 - k, position=(0, y, 0), orientation=(1, 0, 0, 0, 0, -1))
                 for k, y in enumerate([30.0, -10.0, 10.0])]
    slices, _, _ = order_slices(instances)
    assert [s.position[1] for s in slices] == [-10.0, 10.0, 30.0]


def test_images_without_positions_keep_instance_number_order():
    instances = [orthanc_instance("b", number=2, position=None), orthanc_instance("a", number=1, position=None),
                 orthanc_instance("c", number=3, position=None)]
    slices, orientation, _ = order_slices(instances)
    assert [s.instance_id for s in slices] == ["a", "b", "c"]
    assert orientation is None and all(s.position is None for s in slices)


def test_mixed_orientations_are_reported():
    instances = [orthanc_instance("a", number=1, position=(0, 0, 0)),
                 orthanc_instance("b", number=2, position=(0, 0, 1), orientation=(0, 1, 0, 0, 0, -1))]
    assert order_slices(instances)[2] is False


@pytest.mark.parametrize(("bits", "signed", "slope", "intercept", "expected"), [
    (12, False, 1, -1024, "int16"),  # CT stored unsigned, HU below zero
    (16, True, 1, 0, "int16"),
    (12, False, 1, 0, "uint16"),  # MR: no rescale, never negative
    (16, False, 1, 0, "uint16"),
    (16, False, 2, 0, "int16"),  # does not fit: clipped to int16 rather than wrapped
])
def test_the_output_type_holds_the_rescaled_range(bits, signed, slope, intercept, expected):
    assert output_dtype(bits_stored=bits, signed=signed, slope=slope, intercept=intercept) == expected


def test_decoding_applies_each_slices_rescale_slope_and_intercept():
    stored = np.array([[0, 1000], [1024, 4095]], dtype=np.uint16)
    ds = ct_slice(stored, position=(0, 0, 0), number=1, study_uid="1.2.3", series_uid="1.2.3.4", slope=1.0,
                  intercept=-1024.0)
    assert decode_slice(ds, dtype="int16", rows=2, columns=2).tolist() == [[-1024, -24], [0, 3071]]
    ds.RescaleSlope, ds.RescaleIntercept = 0.5, -100
    decoded = decode_slice(ds, dtype="int16", rows=2, columns=2)
    assert decoded.dtype == np.int16
    assert decoded.tolist() == [[-100, 400], [412, 1948]]


def test_signed_and_unsigned_pixels_decode_to_their_values():
    signed = np.array([[-2000, -1], [0, 3000]], dtype=np.int16)
    ds = ct_slice(signed, position=(0, 0, 0), number=1, study_uid="1.2.3", series_uid="1.2.3.4", intercept=0)
    assert decode_slice(ds, dtype="int16", rows=2, columns=2).tolist() == signed.tolist()
    unsigned = np.array([[0, 40000], [65535, 7]], dtype=np.uint16)
    ds = ct_slice(unsigned, position=(0, 0, 0), number=1, study_uid="1.2.3", series_uid="1.2.3.4", intercept=0)
    out = decode_slice(ds, dtype="uint16", rows=2, columns=2)
    assert out.dtype == np.uint16 and out.tolist() == unsigned.tolist()


def test_a_slice_of_another_size_is_refused():
    ds = ct_series(1, shape=(4, 4))[0]
    with pytest.raises(ImagingUnsupported, match="different sizes"):
        decode_slice(ds, dtype="int16", rows=6, columns=8)


def test_compressed_slices_decode_like_uncompressed_ones():
    ds = ct_series(1, shape=(8, 8))[0]
    ds.compress(RLELossless, encoding_plugin="pydicom")
    assert decode_slice(ds, dtype="int16", rows=8, columns=8).tolist() == [[1000 - 1024] * 8] * 8


def test_objects_that_are_not_images_are_named_for_what_they_are():
    with pytest.raises(ImagingUnsupported, match="a structured report \\(SR\\), not images"):
        check_displayable(bits_allocated=None, modality="SR")
    with pytest.raises(ImagingUnsupported, match="an ECG waveform"):
        check_displayable(bits_allocated=None, modality="ECG")
    with pytest.raises(ImagingUnsupported, match="32-bit"):
        check_displayable(bits_allocated=32, modality="CT")
    check_displayable(bits_allocated=16, modality="MG")


def enhanced_ct(frames: int = 3) -> Dataset:
    """A multi-frame CT whose frames carry their own position and rescale in functional groups."""
    ds = ct_series(1, shape=(4, 5))[0]
    for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "RescaleSlope",
                    "RescaleIntercept"):
        delattr(ds, keyword)
    ds.NumberOfFrames = frames
    shared = Dataset()
    shared.PlaneOrientationSequence = [Dataset()]
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PixelMeasuresSequence = [Dataset()]
    shared.PixelMeasuresSequence[0].PixelSpacing = [0.5, 0.6]
    shared.PixelMeasuresSequence[0].SliceThickness = 1
    ds.SharedFunctionalGroupsSequence = [shared]
    ds.PerFrameFunctionalGroupsSequence = []
    for k in range(frames):
        item = Dataset()
        item.PlanePositionSequence = [Dataset()]
        item.PlanePositionSequence[0].ImagePositionPatient = [0, 0, 10.0 + 2 * k]
        item.PixelValueTransformationSequence = [Dataset()]
        item.PixelValueTransformationSequence[0].RescaleSlope = 1
        item.PixelValueTransformationSequence[0].RescaleIntercept = -1000 - k
        ds.PerFrameFunctionalGroupsSequence.append(item)
    ds.PixelData = np.stack([np.full((4, 5), 100 * k, "<u2") for k in range(frames)]).tobytes()
    return ds


def test_a_multi_frame_image_splits_into_slices_with_each_frames_geometry_and_rescale():
    frames = split_frames(enhanced_ct(3))
    assert [list(map(float, f.ImagePositionPatient)) for f in frames] == [[0, 0, 10], [0, 0, 12], [0, 0, 14]]
    assert [float(f.PixelSpacing[1]) for f in frames] == [0.6] * 3
    volume = volume_from_datasets([enhanced_ct(3)])
    assert volume.spacing == (2.0, 0.5, 0.6)
    assert volume.hu[:, 0, 0].tolist() == [-1000, 100 - 1001, 200 - 1002]


def test_a_frames_own_rescale_is_applied_for_the_viewer():
    ds = enhanced_ct(3)
    stored = np.full((4, 5), 200, np.uint16)
    assert rescale_frame(ds, stored, frame=2, dtype="int16")[0, 0] == 200 - 1002
    assert frame_attribute({"SharedFunctionalGroupsSequence": [{"PixelMeasuresSequence": [
        {"PixelSpacing": "0.5\\0.6"}]}]}, 0, "PixelSpacing") == "0.5\\0.6"  # Orthanc's JSON reads alike


def test_palette_and_rgb_images_become_8_bit_rgb():
    ds = ct_series(1, shape=(2, 2))[0]
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.RedPaletteColorLookupTableDescriptor = [4, 0, 8]
    ds.GreenPaletteColorLookupTableDescriptor = [4, 0, 8]
    ds.BluePaletteColorLookupTableDescriptor = [4, 0, 8]
    ds.RedPaletteColorLookupTableData = bytes([0, 255, 0, 10])
    ds.GreenPaletteColorLookupTableData = bytes([0, 0, 255, 20])
    ds.BluePaletteColorLookupTableData = bytes([0, 0, 0, 30])
    rgb = rescale_frame(ds, np.array([[0, 1], [2, 3]], np.uint8), frame=0, dtype="rgb8")
    assert rgb.dtype == np.uint8
    assert rgb.tolist() == [[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [10, 20, 30]]]
    ds = ct_series(1, shape=(2, 2))[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsStored = 3, "RGB", 16
    wide = np.array([[[65535, 0, 256]] * 2] * 2, np.uint16)
    assert rescale_frame(ds, wide, frame=0, dtype="rgb8")[0, 0].tolist() == [255, 0, 1]
    assert len(encode_planes([np.zeros((2, 2, 3), np.uint8)])) == 2 * 2 * 3


def test_byte_planes_round_trip_through_gzip():
    rng = np.random.default_rng(1)
    slices = [rng.integers(-1024, 3000, size=(6, 8)).astype(np.int16) for _ in range(3)]
    body = gzip.decompress(gzip_bytes(encode_planes(slices)))
    assert len(body) == 3 * 6 * 8 * 2
    np.testing.assert_array_equal(planes_to_array(body, count=3, rows=6, columns=8, dtype="int16"), slices)
    # The layout is planes, not interleaved pairs: the first 48 bytes are slice 0's low bytes.
    assert body[:48] == (slices[0].astype("<i2").view(np.uint8)[:, ::2]).tobytes()
