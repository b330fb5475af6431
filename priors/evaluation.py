"""Accuracy of the report miner on the labelled set, per part (dev: tuned on; held-out: never tuned on)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from priors.mining import FEATURES, birads_level, mine_mammography_report

LABELLED_SET = Path(__file__).parent / "data" / "mammography_reports_labelled.jsonl"


def load_labelled(path: Path = LABELLED_SET) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class PartScores:
    n: int = 0
    birads_exact: int = 0
    birads_level: int = 0
    density: int = 0
    laterality: int = 0
    # feature -> [true positives, false positives, false negatives]
    features: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0, 0] for k in FEATURES})
    errors: list[str] = field(default_factory=list)

    def add(self, report: dict) -> None:
        mined = mine_mammography_report(report["text"])
        self.n += 1
        self.birads_exact += mined.birads == report["birads"]
        self.birads_level += birads_level(mined.birads) == birads_level(report["birads"])
        self.density += mined.density == report["density"]
        self.laterality += mined.laterality == report["laterality"]
        if mined.birads != report["birads"] or mined.density != report["density"]:
            self.errors.append(f"{report['id']}: birads {mined.birads} (gold {report['birads']}), "
                               f"density {mined.density} (gold {report['density']})")
        for kind in FEATURES:
            found, gold = mined.has(kind), bool(report["features"][kind])
            counts = self.features[kind]
            counts[0] += found and gold
            counts[1] += found and not gold
            counts[2] += gold and not found
            if found != gold:
                self.errors.append(f"{report['id']}: {kind} mined {found}, gold {gold}")


def evaluate(reports: list[dict]) -> dict[str, PartScores]:
    parts: dict[str, PartScores] = {}
    for report in reports:
        parts.setdefault(report["part"], PartScores()).add(report)
    return parts


def _ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f} ({numerator}/{denominator})" if denominator else "n/a (0/0)"


def markdown_table(parts: dict[str, PartScores]) -> str:
    names = [p for p in ("dev", "heldout", "heldout_hand") if p in parts]
    names += sorted(set(parts) - set(names))
    rows = [("reports (n)", [str(parts[p].n) for p in names]),
            ("BI-RADS category, exact", [_ratio(parts[p].birads_exact, parts[p].n) for p in names]),
            ("BI-RADS level 0-6 (4A/4B/4C = 4)", [_ratio(parts[p].birads_level, parts[p].n) for p in names]),
            ("density a-d", [_ratio(parts[p].density, parts[p].n) for p in names]),
            ("laterality of findings", [_ratio(parts[p].laterality, parts[p].n) for p in names])]
    for kind in FEATURES:
        tp_fp_fn = [parts[p].features[kind] for p in names]
        rows.append((f"{kind}: precision", [_ratio(c[0], c[0] + c[1]) for c in tp_fp_fn]))
        rows.append((f"{kind}: recall", [_ratio(c[0], c[0] + c[2]) for c in tp_fp_fn]))
    header = "| measure | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
    return "\n".join([header] + [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows])
