"""The optional benign-mimic output of the mammography detector (issue 20): trained on the hard
phantom's benign findings, it scales the lesion heatmaps down where it fires."""

import numpy as np
import pytest
import torch

from inference.cad.mammography.network import OUTPUT_STRIDE, MammoNet, decode, load_network, predict_maps
from inference.cad.mammography.train import CROP, _crop


def _maps(benign: float | None) -> np.ndarray:
    maps = np.zeros((4 if benign is None else 5, 20, 20), np.float32)
    maps[0, 10, 10] = 0.8  # one mass peak
    maps[2] = 12.0
    if benign is not None:
        maps[4, 10, 10] = benign
    return maps


def test_a_peak_the_benign_map_also_claims_loses_that_share():
    (plain,) = decode(_maps(None))
    (scaled,) = decode(_maps(0.75))
    assert plain.probability == pytest.approx(0.8)
    assert scaled.probability == pytest.approx(0.8 * 0.25)
    assert (scaled.row, scaled.col) == (plain.row, plain.col)


def test_a_benign_map_strong_enough_drops_the_peak_below_the_decoding_floor():
    assert decode(_maps(0.99)) == []


def test_weights_with_a_benign_channel_load_with_five_outputs(tmp_path):
    torch.manual_seed(0)
    net = MammoNet(width=16, benign=True).eval()
    path = tmp_path / "w.pt"
    torch.save({"state_dict": net.state_dict(), "meta": {"width": 16, "benign_channel": True}}, path)
    loaded, meta = load_network(str(path))
    assert loaded.head.out_channels == 5 and meta["benign_channel"]
    maps = predict_maps(loaded, np.zeros((2, 40, 32), np.float32))
    assert maps.shape == (5, 20, 16)
    assert MammoNet(width=16).head.out_channels == 4  # the deployed 1.0 weights stay four outputs


def test_the_training_crop_puts_a_benign_target_on_the_mimic():
    channels = np.zeros((2, 200, 160), np.float16)
    rng = np.random.default_rng(0)
    *_, benign = _crop(channels, [], rng, centre=(100, 80), mimics=[(100.0, 80.0, 12.0)])
    assert benign.shape == (1, CROP // OUTPUT_STRIDE, CROP // OUTPUT_STRIDE)
    assert benign.max() == pytest.approx(1.0)
    *_, none = _crop(channels, [], rng, centre=(100, 80))
    assert none.max() == 0
