"""PNG previews of synthetic studies: the lesion slice (or middle slice) with a sensible window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .generate import generate_study
from .prostate_mri import prostate_masks

PREVIEW_KWARGS = {
    "chest_ct": {"seed": 7, "n_nodules": 2},
    "mammography": {"seed": 5, "n_lesions": 2},
    "prostate_mri": {"seed": 5, "n_lesions": 1},
    "chest_xr": {"seed": 2},
    "head_ct": {"seed": 2},
    "knee_mri": {"seed": 2},
}


def window(pixels: np.ndarray, center: float, width: float) -> np.ndarray:
    return (np.clip((pixels - (center - width / 2)) / width, 0, 1) * 255).astype(np.uint8)


def _stored_to_real(ds) -> np.ndarray:
    return ds.pixel_array.astype(np.float32) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))


def _circle(img: Image.Image, x: float, y: float, r: float) -> Image.Image:
    img = img.convert("RGB")
    ImageDraw.Draw(img).ellipse([x - r, y - r, x + r, y + r], outline=(255, 60, 60), width=2)
    return img


def preview(kind: str) -> Image.Image:
    study = generate_study(kind, **PREVIEW_KWARGS[kind])
    truth = study.truth
    if kind == "chest_ct":
        k = len(study.datasets) // 2
        lesion = max(truth["lesions"], key=lambda n: n["long_axis_mm"], default=None)
        if lesion:
            k = int(round(lesion["center_voxel_zyx"][0]))
        img = Image.fromarray(window(_stored_to_real(study.datasets[k]), -600, 1500))
        if lesion:
            spacing = truth["geometry"]["pixel_spacing_mm"][0]
            img = _circle(img, lesion["center_voxel_zyx"][2], lesion["center_voxel_zyx"][1],
                          lesion["long_axis_mm"] / spacing + 6)
        return img
    if kind == "mammography":
        tiles = []
        for ds in study.datasets:
            tile = Image.fromarray(window(_stored_to_real(ds), 1900, 2600))
            view = f"{ds.ImageLaterality}{ds.ViewPosition}"
            for lesion in truth["lesions"]:
                if view in lesion["views"]:
                    x0, y0, x1, y1 = lesion["views"][view]["bbox_px"]
                    tile = tile.convert("RGB")
                    ImageDraw.Draw(tile).rectangle([x0 - 4, y0 - 4, x1 + 4, y1 + 4], outline=(255, 60, 60), width=3)
            tiles.append(tile.convert("RGB"))
        order = [0, 1, 2, 3]  # RCC LCC RMLO LMLO: right views hang chest wall right, a mirror pair
        w, h = tiles[0].size
        sheet = Image.new("RGB", (w * 4, h))
        for n, i in enumerate(order):
            sheet.paste(tiles[i], (n * w, 0))
        return sheet.resize((w * 2, h // 2))
    if kind == "prostate_mri":
        by_series: dict[int, list] = {}
        for ds in study.datasets:
            by_series.setdefault(int(ds.SeriesNumber), []).append(ds)
        masks = prostate_masks(truth, "t2w")
        key = f"lesion_{truth['lesions'][0]['id']}" if truth["lesions"] else "gland"
        k = int(np.argmax(masks[key].sum(axis=(1, 2))))
        t2 = Image.fromarray(window(_stored_to_real(by_series[3][k]), 450, 900))
        size = t2.size
        nz = truth["geometry"]["dwi"]["shape_zyx"][0]
        b_high = [ds for ds in by_series[5] if int(ds.DiffusionBValue) == max(truth["b_values"])][k]
        adc = Image.fromarray(window(_stored_to_real(by_series[6][k]), 1400, 2800)).resize(size)
        dwi = Image.fromarray(window(_stored_to_real(b_high), 60, 120)).resize(size)
        assert len(by_series[6]) == nz
        sheet = Image.new("L", (size[0] * 3, size[1]))
        for n, tile in enumerate((t2, adc, dwi)):
            sheet.paste(tile, (n * size[0], 0))
        return sheet
    ds = study.datasets[len(study.datasets) // 2]
    center, width = {"chest_xr": (1300, 2600), "head_ct": (40, 80), "knee_mri": (250, 500)}[kind]
    return Image.fromarray(window(_stored_to_real(ds), center, width))


def render_previews(out: str | Path) -> list[Path]:
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in PREVIEW_KWARGS:
        path = root / f"synthetic_{kind}.png"
        preview(kind).save(path, optimize=True)
        written.append(path)
    return written
