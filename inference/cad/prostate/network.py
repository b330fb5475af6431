"""A compact 3-D U-Net on the working grid: zones (background / PZ / TZ) and a lesion map.

Three input channels (T2, ADC, high-b DWI), four outputs: three zone logits (softmax) and
one lesion logit (sigmoid). The slice axis (3 mm) is pooled only below the first level, so
the in-plane resolution (2 mm) is halved before the slices are.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ZONES = ("background", "pz", "tz")


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.1),
        nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True), nn.LeakyReLU(0.1),
    )


class ProstateUNet(nn.Module):
    def __init__(self, channels: int = 3, base: int = 8) -> None:
        super().__init__()
        b = base
        self.enc1, self.enc2, self.enc3 = _block(channels, b), _block(b, 2 * b), _block(2 * b, 4 * b)
        self.bottom = _block(4 * b, 4 * b)
        self.pool1 = nn.MaxPool3d((1, 2, 2))
        self.pool = nn.MaxPool3d(2)
        self.dec3, self.dec2, self.dec1 = _block(8 * b, 2 * b), _block(4 * b, b), _block(2 * b, b)
        self.head = nn.Conv3d(b, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool1(e1))
        e3 = self.enc3(self.pool(e2))
        bottom = self.bottom(self.pool(e3))
        d3 = self.dec3(torch.cat([F.interpolate(bottom, size=e3.shape[2:], mode="trilinear"), e3], 1))
        d2 = self.dec2(torch.cat([F.interpolate(d3, size=e2.shape[2:], mode="trilinear"), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[2:], mode="trilinear"), e1], 1))
        return self.head(d1)


def probabilities(net: ProstateUNet, inputs: np.ndarray, *, mirror: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(zone probabilities (3, z, y, x), lesion probability (z, y, x)) for one input (3, z, y, x).

    With `mirror`, the left-right mirror image is predicted too and the two averaged (the
    anatomy is near symmetric; averaging steadies the boundaries and the lesion scores).
    """
    net.eval()
    x = torch.from_numpy(np.ascontiguousarray(inputs))[None]
    if mirror:
        x = torch.cat([x, torch.flip(x, dims=[4])])
    with torch.inference_mode():
        out = net(x)
        zones = torch.softmax(out[:, :3], 1)
        lesion = torch.sigmoid(out[:, 3])
    if mirror:
        zones = (zones[0] + torch.flip(zones[1], dims=[3])) / 2
        lesion = (lesion[0] + torch.flip(lesion[1], dims=[2])) / 2
    else:
        zones, lesion = zones[0], lesion[0]
    return zones.numpy(), lesion.numpy()


def save_network(net: ProstateUNet, path, meta: dict) -> None:
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "meta": meta}, path)


def load_network(path) -> tuple[ProstateUNet, dict]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    meta = checkpoint.get("meta", {})
    net = ProstateUNet(base=int(meta.get("base", 8)))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in checkpoint["state_dict"].items()})
    net.eval()
    return net, meta
