"""A small centre-point detector (CenterNet style) for mammograms, and its decoding.

Input: two channels on a 1.12 mm grid (intensity, max-pooled high-pass). Output on a 2.24 mm
grid: a heatmap per lesion class (mass, calcification cluster) peaking at lesion centres, the
log of the lesion diameter, and for masses a spiculated-margin logit. Dilated convolutions at
1/4 resolution see ~12 cm of context (the largest spiculated masses reach ~8 cm across).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

CLASSES = ("mass", "calcification_cluster")
OUTPUT_STRIDE = 2  # output cells per working pixel


def _conv(cin: int, cout: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class MammoNet(nn.Module):
    def __init__(self, width: int = 24, benign: bool = False) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(_conv(2, 16), _conv(16, w, stride=2))  # 1/2
        self.down = _conv(w, 2 * w, stride=2)  # 1/4
        self.context = nn.Sequential(_conv(2 * w, 2 * w, dilation=2), _conv(2 * w, 2 * w, dilation=4),
                                     _conv(2 * w, 2 * w, dilation=8), _conv(2 * w, 2 * w, dilation=2))
        self.fuse = nn.Sequential(nn.Conv2d(3 * w, 32, 1), nn.ReLU(inplace=True), _conv(32, 32))
        # mass heatmap, calcification heatmap, log diameter (mm), spiculated logit[, benign-mimic heatmap]
        self.head = nn.Conv2d(32, 5 if benign else 4, 1)
        with torch.no_grad():
            self.head.bias[:2] = -4.0  # rare positives: start the heatmaps near zero (focal-loss practice)
            if benign:
                self.head.bias[4] = -4.0
            self.head.bias[2] = float(np.log(12.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self.stem(x)
        deep = self.context(self.down(half))
        up = F.interpolate(deep, size=half.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(self.fuse(torch.cat([half, up], dim=1)))


@dataclass
class Mark:
    """One peak on one view, on the working grid (row, col in working pixels)."""

    kind: str  # mass | calcification_cluster
    probability: float
    row: float
    col: float
    diameter_mm: float
    spiculated: float  # probability the margin is spiculated (masses)


def predict_maps(net: MammoNet, channels: np.ndarray) -> np.ndarray:
    """(4, H/2, W/2): two sigmoid heatmaps, diameter in mm, spiculated probability; a fifth map,
    the benign-mimic heatmap, when the network has that output."""
    rows, cols = channels.shape[1:]
    pad_r, pad_c = (-rows) % 8, (-cols) % 8
    x = torch.from_numpy(np.pad(channels, ((0, 0), (0, pad_r), (0, pad_c)), mode="edge"))[None]
    with torch.inference_mode():
        out = net(x)[0].numpy()
    out = out[:, : (rows + 1) // 2, : (cols + 1) // 2]
    maps = [_sigmoid(out[0]), _sigmoid(out[1]), np.exp(np.clip(out[2], 0, 5)), _sigmoid(out[3])]
    return np.stack(maps + [_sigmoid(out[4])] if len(out) > 4 else maps)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def decode(maps: np.ndarray, *, floor: float = 0.05, per_class: int = 8) -> list[Mark]:
    """Local maxima of each heatmap (3 x 3 cells), refined to a sub-cell centroid.

    With a benign-mimic map (fifth), each class heatmap is first scaled by 1 - benign: a peak the
    network also calls a benign mimic (cyst, rim or vascular calcification, ...) loses that share.
    """
    marks: list[Mark] = []
    if len(maps) > 4:
        maps = np.concatenate([maps[:2] * (1.0 - maps[4]), maps[2:]])
    for c, kind in enumerate(CLASSES):
        heat = torch.from_numpy(np.ascontiguousarray(maps[c]))[None, None]
        peak = F.max_pool2d(heat, 5, stride=1, padding=2)[0, 0].numpy()
        found = np.argwhere((maps[c] == peak) & (maps[c] >= floor))
        order = np.argsort(-maps[c][found[:, 0], found[:, 1]])[:per_class]
        for r, q in found[order]:
            r0, r1, q0, q1 = max(r - 1, 0), min(r + 2, maps.shape[1]), max(q - 1, 0), min(q + 2, maps.shape[2])
            weights = maps[c, r0:r1, q0:q1]
            rr, qq = np.mgrid[r0:r1, q0:q1]
            cr, cq = (weights * rr).sum() / weights.sum(), (weights * qq).sum() / weights.sum()
            # Output cell centre -> working pixel coordinates.
            marks.append(Mark(kind=kind, probability=float(maps[c, r, q]), row=float((cr + 0.5) * OUTPUT_STRIDE - 0.5),
                              col=float((cq + 0.5) * OUTPUT_STRIDE - 0.5), diameter_mm=float(maps[2, r, q]),
                              spiculated=float(maps[3, r, q]) if kind == "mass" else 0.0))
    return marks


def load_network(path: str) -> tuple[MammoNet, dict]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    meta = checkpoint.get("meta", {})
    net = MammoNet(width=int(meta.get("width", 24)), benign=bool(meta.get("benign_channel", False)))
    net.load_state_dict(checkpoint["state_dict"])
    net.eval()
    return net, meta
