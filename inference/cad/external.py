"""External CAD models: a TorchScript file plus a small manifest, loaded without code changes.

List manifest paths in EXTERNAL_MODEL_MANIFESTS. A manifest (JSON, or YAML when PyYAML is
installed) says:

    {
      "name": "nodule_heatmap", "version": "0.3",
      "format": "torchscript", "weights": "model.pt",          # relative to the manifest
      "applies_to": {"modalities": ["CT"], "body_parts": ["CHEST"],
                     "description_keywords": ["CHEST", "LUNG"],
                     "series_include": [], "series_exclude": ["SCOUT"], "min_instances": 20},
      "input": {"spacing_mm": [2.0, 2.0, 2.0], "window_hu": [-1000, 400]},
      "output": {"convention": "heatmap", "finding_type": "solid"},
      "thresholds": {"probability": 0.5},
      "reporting": "lungrads"                                    # optional: suggest Lung-RADS
    }

Or, for a MONAI bundle (the MONAI Model Zoo layout: `configs/metadata.json`, `configs/inference.json`,
`models/model.ts` or `models/model.pt`), "format": "monai_bundle" and "bundle": "<directory>" in
place of "weights". `models/model.ts` (TorchScript) is loaded as is; otherwise MONAI's own
ConfigParser builds `network_def` from `configs/inference.json` and `models/model.pt` (a state dict)
is loaded into it. The manifest still says what this pipeline needs that a bundle does not
(routing, envelope, spacing, window, output convention), plus for raw network outputs
"output": {"activation": "sigmoid" | "softmax", "channel": 1} and "input": {"divisible_by": 16}
(the input is padded to it and the output cropped back).

Input: the series resampled to `spacing_mm` (z, y, x), HU clipped to `window_hu` and scaled to
[0, 1], as a float32 tensor of shape (1, 1, Z, Y, X). Output conventions:

* "heatmap": a tensor of the input's spatial shape with per-voxel probabilities; each
  connected region above the threshold is a finding (centroid, equivalent-sphere diameter,
  peak probability).
* "points": a tensor (N, 5) of rows (z, y, x, diameter_mm, probability) in input voxel indices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from archive.volumes import Volume
from inference.cad.base import Applicability, Finding, Prediction
from inference.cad.envelope import Envelope
from inference.cad.volume_model import VolumeCadModel

CONVENTIONS = ("heatmap", "points")
FORMATS = ("torchscript", "monai_bundle")
ACTIVATIONS = (None, "sigmoid", "softmax")


class ManifestError(ValueError):
    """The manifest is missing something or names something that does not exist."""


def read_manifest(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest is a mapping")
    fmt = data.get("format", "torchscript")
    if fmt not in FORMATS:
        raise ManifestError(f"{path}: format must be one of {FORMATS}")
    for key in ("name", "version", "bundle" if fmt == "monai_bundle" else "weights"):
        if not data.get(key):
            raise ManifestError(f"{path}: '{key}' is required")
    if data.get("output", {}).get("activation") not in ACTIVATIONS:
        raise ManifestError(f"{path}: output activation must be one of {ACTIVATIONS}")
    convention = data.get("output", {}).get("convention", "heatmap")
    if convention not in CONVENTIONS:
        raise ManifestError(f"{path}: output convention must be one of {CONVENTIONS}")
    return data


def load_bundle(directory: Path) -> torch.nn.Module:
    """The network of a MONAI bundle directory, in eval mode on the CPU."""
    configs, models = directory / "configs", directory / "models"
    if not (configs / "metadata.json").exists():
        raise ManifestError(f"{directory}: not a MONAI bundle (configs/metadata.json missing)")
    if (models / "model.ts").exists():
        module = torch.jit.load(str(models / "model.ts"), map_location="cpu")
    else:
        from monai.bundle import ConfigParser

        inference = next((configs / name for name in ("inference.json", "inference.yaml")
                          if (configs / name).exists()), None)
        if inference is None or not (models / "model.pt").exists():
            raise ManifestError(f"{directory}: needs models/model.ts, or configs/inference.json with "
                                "network_def and models/model.pt")
        parser = ConfigParser()
        parser.read_meta(str(configs / "metadata.json"))
        parser.read_config(str(inference))
        module = parser.get_parsed_content("network_def")
        state = torch.load(str(models / "model.pt"), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and isinstance(state.get("model"), dict):
            state = state["model"]  # a training checkpoint rather than a bare state dict
        module.load_state_dict(state)
    module.eval()
    return module


def envelope_from_manifest(data: dict | None) -> Envelope | None:
    """The manifest's "envelope" (same keys as Envelope; ranges as [low, high]); None when absent."""
    if not data:
        return None
    ranges = ("slice_thickness_mm", "pixel_spacing_mm", "kvp", "field_strength_t")
    known = {*ranges, "modalities", "min_slices", "min_coverage_mm", "contrast", "preferred_kernels", "source"}
    unknown = set(data) - known
    if unknown:
        raise ManifestError(f"envelope: unknown keys {sorted(unknown)}")
    values = {k: (tuple(float(x) for x in v) if k in ranges else v) for k, v in data.items()}
    for key in ("modalities", "preferred_kernels"):
        if key in values:
            values[key] = tuple(str(x).upper() for x in values[key])
    return Envelope(**values)


class ExternalModel(VolumeCadModel):
    def __init__(self, manifest_path: str | Path) -> None:
        path = Path(manifest_path)
        self.manifest = read_manifest(path)
        self.name = str(self.manifest["name"])
        self.version = str(self.manifest["version"])
        rule = self.manifest.get("applies_to", {})
        defaults = Applicability()
        self.applicability = Applicability(
            modalities=tuple(rule.get("modalities", defaults.modalities)),
            body_parts=tuple(rule.get("body_parts", defaults.body_parts)),
            description_keywords=tuple(rule.get("description_keywords", defaults.description_keywords)),
            series_include=tuple(rule.get("series_include", defaults.series_include)),
            series_exclude=tuple(rule.get("series_exclude", defaults.series_exclude)),
            min_instances=int(rule.get("min_instances", defaults.min_instances)),
        )
        self.envelope = envelope_from_manifest(self.manifest.get("envelope"))
        inputs = self.manifest.get("input", {})
        self.spacing = np.array(inputs.get("spacing_mm", [1.0, 1.0, 1.0]), dtype=float)
        self.window = tuple(float(v) for v in inputs.get("window_hu", [-1000, 400]))
        output = self.manifest.get("output", {})
        self.convention = output.get("convention", "heatmap")
        self.finding_type = str(output.get("finding_type", "solid"))
        self.threshold = float(self.manifest.get("thresholds", {}).get("probability", 0.5))
        self.activation = output.get("activation")
        self.channel = int(output.get("channel", 0))
        self.divisible_by = int(inputs.get("divisible_by", 1))
        # Loaded once: the registry keeps this object for the life of the worker process.
        if self.manifest.get("format") == "monai_bundle":
            bundle = (path.parent / self.manifest["bundle"]).resolve()
            if not bundle.is_dir():
                raise ManifestError(f"{path}: bundle directory {bundle} not found")
            self.module = load_bundle(bundle)
        else:
            weights = (path.parent / self.manifest["weights"]).resolve()
            if not weights.exists():
                raise ManifestError(f"{path}: weights {weights} not found")
            self.module = torch.jit.load(str(weights), map_location="cpu")
            self.module.eval()

    def _input(self, volume: Volume) -> tuple[np.ndarray, np.ndarray]:
        zoom = np.array(volume.spacing) / self.spacing
        data = ndimage.zoom(volume.hu.astype(np.float32), zoom, order=1)
        lo, hi = self.window
        data = (np.clip(data, lo, hi) - lo) / (hi - lo)
        # Source voxels per model voxel, per axis, as zoom actually laid the grid out.
        scale = (np.array(volume.hu.shape) - 1) / np.maximum(np.array(data.shape) - 1, 1)
        return data.astype(np.float32), scale

    def predict(self, volume: Volume) -> Prediction:
        data, scale = self._input(volume)
        output = self.forward(data)
        rows = self._heatmap_rows(output.reshape(data.shape)) if self.convention == "heatmap" else output.reshape(-1, 5)
        findings = []
        for z, y, x, diameter, probability in rows:
            if probability < self.threshold:
                continue
            centre = volume.index_to_lps(np.array([z, y, x]) * scale)
            findings.append(Finding(centre_mm=tuple(float(v) for v in centre), diameter_mm=float(diameter),
                                    kind=self.finding_type, probability=float(probability),
                                    mean_diameter_mm=float(diameter)))
        findings.sort(key=lambda f: -f.probability)
        suspicion = float(output.max()) if output.size and self.convention == "heatmap" else max(
            (float(r[4]) for r in rows), default=0.0)
        return Prediction(findings=findings, suspicion=round(min(max(suspicion, 0.0), 1.0), 4))

    def forward(self, data: np.ndarray) -> np.ndarray:
        """The module on one input volume; raw network outputs made probabilities of the input's shape."""
        shape = data.shape
        pad = [(0, (-n) % self.divisible_by) for n in shape]
        x = torch.from_numpy(np.pad(data, pad, mode="edge"))[None, None]
        with torch.no_grad():
            output = self.module(x)
        if self.activation == "sigmoid":
            output = torch.sigmoid(output)
        elif self.activation == "softmax":
            output = torch.softmax(output, dim=1)
        if output.dim() == 5:  # (batch, channel, z, y, x): MONAI networks
            output = output[0, self.channel]
        output = output.detach().float().numpy()
        if output.ndim == 3:
            output = output[: shape[0], : shape[1], : shape[2]]
        return output

    def _heatmap_rows(self, heat: np.ndarray) -> np.ndarray:
        labels, count = ndimage.label(heat >= self.threshold)
        rows = []
        voxel_mm3 = float(np.prod(self.spacing))
        for index in range(1, count + 1):
            region = labels == index
            centre = np.argwhere(region).mean(axis=0)
            diameter = 2 * (3 * region.sum() * voxel_mm3 / (4 * np.pi)) ** (1 / 3)
            rows.append([*centre, diameter, float(heat[region].max())])
        return np.array(rows, dtype=float).reshape(-1, 5)

    def summarise(self, prediction: Prediction) -> tuple[str, str]:
        if self.manifest.get("reporting") == "lungrads":
            from inference.cad.lung_nodule.model import lungrads_summary

            return lungrads_summary(prediction.findings)
        return super().summarise(prediction)
