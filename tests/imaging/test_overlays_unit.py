"""SEG overlays without the archive: run lengths, decoding, and masks landing on the right slices."""

import random

import highdicom as hd
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from archive.imaging import order_slices
from archive.overlays import (
    PALETTE,
    decode_segmentation,
    overlay_for_slices,
    rle_decode,
    rle_encode,
    segment_colour,
)
from inference.synthetic.prostate_mri import prostate_masks
from tests.imaging.seg_helpers import prostate_seg, prostate_t2, segment


@pytest.fixture(scope="module")
def prostate():
    t2, truth = prostate_t2(seed=3)
    return t2, truth


def orthanc_listing(datasets) -> list[dict]:
    """The shape of Orthanc's series/{id}/instances for these datasets."""
    return [{"ID": f"orthanc-{ds.SOPInstanceUID[-12:]}", "MainDicomTags": {
        "InstanceNumber": str(ds.InstanceNumber), "SOPInstanceUID": ds.SOPInstanceUID,
        "ImagePositionPatient": "\\".join(str(float(v)) for v in ds.ImagePositionPatient),
        "ImageOrientationPatient": "\\".join(str(float(v)) for v in ds.ImageOrientationPatient)}}
        for ds in datasets]


def test_run_lengths_round_trip_and_start_with_a_run_of_zeros():
    rng = np.random.default_rng(2)
    for shape in [(5, 7), (64, 48), (1, 1)]:
        for density in (0.0, 0.1, 0.5, 1.0):
            mask = rng.random(shape) < density
            runs = rle_encode(mask)
            assert sum(runs) == mask.size
            np.testing.assert_array_equal(rle_decode(runs, shape), mask)
    assert rle_encode(np.array([[1, 1, 0], [0, 0, 1]], bool)) == [0, 2, 3, 1]
    assert rle_encode(np.array([[0, 1, 1], [1, 0, 0]], bool)) == [1, 3, 2]
    with pytest.raises(ValueError):
        rle_decode([3, 5], (2, 2))


def test_masks_land_on_the_viewers_slices_whatever_order_series_and_seg_were_sent_in(prostate):
    t2, truth = prostate
    shuffled = list(t2)
    random.Random(5).shuffle(shuffled)
    seg = prostate_seg(t2, truth, source_order=shuffled)
    # The viewer's slice order comes from the archive's listing, itself in arrival order.
    listing = orthanc_listing(reversed(shuffled))
    slices, _, _ = order_slices(listing)
    overlay = overlay_for_slices(decode_segmentation(seg), slices, rows=128, columns=128)

    masks = prostate_masks(truth, "t2w")  # in the generator's order: head first, as the viewer orders
    assert [s.sop_instance_uid for s in slices] == [ds.SOPInstanceUID for ds in t2]
    lesion = next(k for k in masks if k.startswith("lesion_"))
    assert [s["label"] for s in overlay["segments"]] == ["Transition zone", "Peripheral zone", "Lesion"]
    for shown, key in zip(overlay["segments"], ["tz", "pz", lesion], strict=True):
        expected = {k for k in range(len(t2)) if masks[key][k].any()}
        assert {s["index"] for s in shown["slices"]} == expected  # empty slices are left out
        assert 0 < len(expected) < len(t2)
        for s in shown["slices"]:
            assert s["sop_instance_uid"] == slices[s["index"]].sop_instance_uid
            np.testing.assert_array_equal(rle_decode(s["rle"], (128, 128)), masks[key][s["index"]])
    assert overlay["algorithm_name"] == "SynthProstateSeg"
    assert overlay["series_description"] == "AI prostate zones"
    assert overlay["sop_instance_uid"] == seg.SOPInstanceUID


def test_segment_colours_come_from_the_seg_or_a_fixed_palette(prostate):
    t2, truth = prostate
    decoded = decode_segmentation(prostate_seg(t2, truth))
    tz, pz, lesion = decoded.segments
    assert (tz.colour_source, lesion.colour_source, pz.colour_source) == ("recommended", "recommended", "palette")
    assert lesion.as_json()["colour"] == "#ff0000"  # "red" through CIELab and back
    assert tz.colour == (64, 224, 208)  # turquoise
    assert pz.colour == PALETTE[1]  # segment 2
    assert tz.property_code == "SCT:399384005" and tz.algorithm_type == "AUTOMATIC"


def test_the_prostate_zones_get_their_recommended_colours_even_out_of_gamut():
    # The project's own prostate SEG: PZ green, TZ blue (a CIELab blue just outside sRGB), lesion red.
    from inference.cad.prostate.seg import COLOURS, PZ_SEGMENT, TZ_SEGMENT

    item = Dataset()
    colours = {}
    for key, number in ((PZ_SEGMENT, 1), (TZ_SEGMENT, 2), ("lesion", 3)):
        item.RecommendedDisplayCIELabValue = list(hd.color.CIELabColor(*COLOURS[key]).value)
        colours[key], source = segment_colour(item, number)
        assert source == "recommended"
    (pr, pg, pb), (tr, tg, tb), (lr, lg, lb) = colours[PZ_SEGMENT], colours[TZ_SEGMENT], colours["lesion"]
    assert pg > pr and pg > pb  # green
    assert tb > tr and tb > tg  # blue
    assert lr > lg and lr > lb  # red


def test_a_seg_over_other_images_is_not_offered_and_one_on_another_grid_is_explained(prostate):
    t2, truth = prostate
    decoded = decode_segmentation(prostate_seg(t2, truth))
    other = orthanc_listing(t2)
    for item in other:
        item["MainDicomTags"]["SOPInstanceUID"] = generate_uid()
    assert overlay_for_slices(decoded, order_slices(other)[0], rows=128, columns=128) is None
    mismatch = overlay_for_slices(decoded, order_slices(orthanc_listing(t2))[0], rows=64, columns=64)
    assert "is not this series'" in mismatch["error"]


def test_a_fractional_seg_is_shown_where_the_probability_reaches_one_half(prostate):
    import highdicom as hd

    t2, truth = prostate
    gland = prostate_masks(truth, "t2w")["gland"]
    probability = np.where(gland, 0.8, 0.3).astype(np.float32)
    probability[:, :, :10] = 0.0
    seg = hd.seg.Segmentation(
        source_images=t2, pixel_array=probability, segmentation_type="FRACTIONAL",
        segment_descriptions=[segment(1, "Gland", "41216001", "Prostate", None)],
        series_instance_uid=generate_uid(), series_number=9903, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer="test", manufacturer_model_name="test", software_versions="0", device_serial_number="1",
    )
    overlay = overlay_for_slices(decode_segmentation(seg), order_slices(orthanc_listing(t2))[0], rows=128, columns=128)
    shown = np.zeros_like(gland)
    for s in overlay["segments"][0]["slices"]:
        shown[s["index"]] = rle_decode(s["rle"], (128, 128))
    expected = gland.copy()
    expected[:, :, :10] = False
    np.testing.assert_array_equal(shown, expected)
