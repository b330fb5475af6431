"""The SyntheticStudy container and its writer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset


@dataclass
class SyntheticStudy:
    kind: str
    study_instance_uid: str
    datasets: list[Dataset]
    truth: dict = field(default_factory=dict)

    def write(self, directory: str | Path) -> Path:
        """Write one folder per series (numbered files) and truth.json; returns the study folder."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        folders: dict[str, Path] = {}
        for ds in self.datasets:
            uid = str(ds.SeriesInstanceUID)
            if uid not in folders:
                name = f"S{int(ds.SeriesNumber):03d}_{_slug(str(ds.get('SeriesDescription', '')))}"
                folders[uid] = root / name
                folders[uid].mkdir(exist_ok=True)
            ds.save_as(folders[uid] / f"IM{int(ds.InstanceNumber):05d}.dcm", enforce_file_format=True)
        (root / "truth.json").write_text(json.dumps(self.truth, indent=2, ensure_ascii=False),
                                         encoding="utf-8")
        return root


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "_" for c in text.upper())
    return "_".join(part for part in keep.split("_") if part)[:40] or "SERIES"
