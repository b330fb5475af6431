"""The false-positive reducer: a small multi-view ConvNet (after Setio et al., IEEE TMI 2016).

Each candidate is shown as three orthogonal 32 x 32 planes at 1 mm and the same planes at
2 mm (64 mm of context, for large nodules and for telling a vessel from a ball), six channels
in all, plus three scalars from the detector (blob radius, response, blobness).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import nn

PATCH = 32
PLANE_SCALES_MM = (1.0, 2.0)
CHANNELS = 3 * len(PLANE_SCALES_MM)
N_FEATURES = 3
HU_WINDOW = (-1000.0, 400.0)


def _plane_offsets() -> np.ndarray:
    """Offsets (in patch units) of the three orthogonal planes: (3, PATCH*PATCH, 3) in (z, y, x)."""
    t = np.arange(PATCH) - (PATCH - 1) / 2
    u, v = np.meshgrid(t, t, indexing="ij")
    zero = np.zeros_like(u)
    axial = np.stack([zero, u, v], axis=-1)
    coronal = np.stack([u, zero, v], axis=-1)
    sagittal = np.stack([u, v, zero], axis=-1)
    return np.stack([axial, coronal, sagittal]).reshape(3, PATCH * PATCH, 3)


_OFFSETS = _plane_offsets()


def extract_views(hu: np.ndarray, centres_kji: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    """Patches (N, CHANNELS, PATCH, PATCH) as float32 in [0, 1] from a 1 mm volume.

    `rotations` (N, 3, 3) turns the sampling planes (training augmentation); None keeps them
    aligned with the volume axes.
    """
    n = len(centres_kji)
    out = np.empty((n, CHANNELS, PATCH, PATCH), dtype=np.float32)
    if n == 0:
        return out
    coords = []
    for scale in PLANE_SCALES_MM:
        offsets = _OFFSETS * scale  # mm == voxels at 1 mm spacing
        if rotations is None:
            pts = centres_kji[:, None, None, :] + offsets[None]
        else:
            pts = centres_kji[:, None, None, :] + np.einsum("nab,pqb->npqa", rotations, offsets)
        coords.append(pts)
    pts = np.stack(coords, axis=1).reshape(-1, 3).T  # (3, N*scales*3*PATCH*PATCH)
    values = ndimage.map_coordinates(hu, pts, order=1, mode="constant", cval=-1000.0, prefilter=False)
    lo, hi = HU_WINDOW
    out[:] = ((np.clip(values, lo, hi) - lo) / (hi - lo)).reshape(n, CHANNELS, PATCH, PATCH)
    return out


def candidate_features(candidates) -> np.ndarray:
    """The detector's scalars per candidate (size, filter response, blobness), scaled for the network."""
    radius_mm = np.array([c.radius_mm for c in candidates])
    response = np.array([c.response for c in candidates])
    blobness = np.array([c.blobness for c in candidates])
    return np.stack([np.log(np.maximum(radius_mm, 0.5)) - 1.5, response / 300.0 - 1.0,
                     np.minimum(blobness, 1.5) - 0.5], axis=1).astype(np.float32)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class MultiViewNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(CHANNELS, 16), _block(16, 32), _block(32, 64))  # 32 -> 4
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 4 * 4 + N_FEATURES, 96), nn.ReLU(inplace=True),
            nn.Linear(96, 1),
        )

    def forward(self, views: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        x = self.features(views).flatten(1)
        return self.head[1:](torch.cat([self.head[0](x), scalars], dim=1)).squeeze(1)


def load_network(path: str) -> tuple[MultiViewNet, dict]:
    """The network in eval mode and the metadata saved with it (threshold, training record)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    net = MultiViewNet()
    net.load_state_dict(checkpoint["state_dict"])
    net.eval()
    return net, checkpoint.get("meta", {})


def flip_views(views: np.ndarray, flip_x: bool, flip_y: bool, flip_z: bool) -> np.ndarray:
    """The views of the volume mirrored along x, y and/or z, made by flipping the planes themselves.

    Channels per scale are (axial: rows y, cols x), (coronal: rows z, cols x), (sagittal: rows z,
    cols y), so a mirror in x flips the columns of the axial and coronal planes, and so on; the
    patch grid is symmetric about the candidate, so no resampling is needed.
    """
    out = views.copy()
    for base in range(0, CHANNELS, 3):
        axial, coronal, sagittal = base, base + 1, base + 2
        if flip_x:
            out[:, [axial, coronal]] = out[:, [axial, coronal], :, ::-1]
        if flip_y:
            out[:, axial] = out[:, axial, ::-1, :]
            out[:, sagittal] = out[:, sagittal, :, ::-1]
        if flip_z:
            out[:, [coronal, sagittal]] = out[:, [coronal, sagittal], ::-1, :]
    return np.ascontiguousarray(out)


def score_mirrored(net: MultiViewNet, views: np.ndarray, scalars: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Mean probability over the eight mirror images (test-time augmentation); `first` is the
    score of the unflipped views, already computed. Averaging steadies the ranking of the few
    candidates that decide the FROC curve (one orientation of a vessel crossing can look round)."""
    total = first.astype(np.float64)  # a new array: astype copies
    for fx in (False, True):
        for fy in (False, True):
            for fz in (False, True):
                if fx or fy or fz:
                    total += score(net, flip_views(views, fx, fy, fz), scalars)
    return (total / 8).astype(np.float32)


@torch.no_grad()
def score(net: MultiViewNet, views: np.ndarray, scalars: np.ndarray, batch: int = 256) -> np.ndarray:
    """Nodule probability per candidate."""
    out = []
    for start in range(0, len(views), batch):
        logits = net(torch.from_numpy(views[start:start + batch]), torch.from_numpy(scalars[start:start + batch]))
        out.append(torch.sigmoid(logits).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
